package dev.agentplatform.store;

import dev.agentplatform.store.firestore.FirestoreStore;
import dev.agentplatform.testing.Platform;

/** The store contract against Firestore, through the emulator the test run started. */
class FirestoreStoreIT extends StoreContract<FirestoreStore> {

  @Override
  protected FirestoreStore open() {
    return FirestoreStore.connect("store-contract", "(default)", Platform.firestoreEmulatorHost());
  }
}
