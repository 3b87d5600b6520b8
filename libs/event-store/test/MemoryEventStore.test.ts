import { MemoryEventStore } from "../src/index.js"
import { eventStoreContract } from "./EventStoreContract.js"

eventStoreContract("in-memory", MemoryEventStore.layerMemory)
