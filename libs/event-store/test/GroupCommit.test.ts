import { Layer } from "effect"
import { GroupCommit, MemoryEventStore } from "../src/index.js"
import { eventStoreContract } from "./EventStoreContract.js"

eventStoreContract("group commit in front of the in-memory store", GroupCommit.layer.pipe(Layer.provide(MemoryEventStore.layerMemory)))
