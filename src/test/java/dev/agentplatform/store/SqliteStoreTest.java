package dev.agentplatform.store;

import dev.agentplatform.store.sqlite.SqliteStore;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The store contract against the embedded SQLite store, in a fresh data directory per test. */
class SqliteStoreTest extends StoreContract {

  @TempDir
  Path dir;

  private SqliteStore store;

  @BeforeEach
  void open() {
    store = SqliteStore.open(dir);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Override
  protected PlatformStore store() {
    return store;
  }

  @Override
  protected PlatformStore reopen() {
    return SqliteStore.open(dir);
  }
}
