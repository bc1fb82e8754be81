import { createMemoryDatabase, createMemoryStore } from '../src/store/memory-store.js';
import { describeStoreConformance } from './store-conformance.js';

// Each test gets its own in-memory database; every instance the suite opens shares it (as processes share a file).
describeStoreConformance('memory', async () => {
  const database = createMemoryDatabase();
  return {
    store: createMemoryStore({ database }),
    open: async () => createMemoryStore({ database }),
    cleanup: async () => undefined,
  };
});
