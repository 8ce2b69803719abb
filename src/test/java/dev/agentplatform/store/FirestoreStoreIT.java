package dev.agentplatform.store;

import dev.agentplatform.store.firestore.FirestoreStore;
import dev.agentplatform.testing.Platform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** The store contract against Firestore, through the emulator the test run started. */
class FirestoreStoreIT extends StoreContract {

  private FirestoreStore store;

  @BeforeEach
  void open() {
    store = FirestoreStore.connect("store-contract", "(default)", Platform.firestoreEmulatorHost());
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
    return FirestoreStore.connect("store-contract", "(default)", Platform.firestoreEmulatorHost());
  }
}
