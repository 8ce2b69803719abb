package dev.agentplatform.store;

import dev.agentplatform.store.sqlite.SqliteStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store contract against the embedded SQLite store, in a fresh data directory per test. */
class SqliteStoreTest extends StoreContract<SqliteStore> {

  @TempDir
  Path dir;

  @Override
  protected SqliteStore open() {
    return SqliteStore.open(dir);
  }
}
