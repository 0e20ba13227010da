// Hardhat 3 as a second local devnet, reached only through JSON-RPC (`hardhat node`).
// OriginTrace compiles with its own solc bridge, so no Hardhat plugins are configured.
import { defineConfig } from "hardhat/config";

export default defineConfig({});
