// Bounded load generator for bench/lookup.py: autocannon over a list of paths.
// Usage: node bench/load.js <base-url> <paths.json> <accept> <connections> <seconds>
// Prints autocannon's result as JSON on stdout.
"use strict";
const fs = require("fs");
const autocannon = require("autocannon");

const [base, pathsFile, accept, connections, seconds] = process.argv.slice(2);
const paths = JSON.parse(fs.readFileSync(pathsFile, "utf8"));
autocannon(
  {
    url: base,
    connections: Number(connections),
    duration: Number(seconds),
    headers: { accept, "accept-language": "en" },
    // A random path per request: connections never move through the list in lockstep.
    requests: [
      {
        method: "GET",
        setupRequest: (request) => ({ ...request, path: paths[Math.floor(Math.random() * paths.length)] }),
      },
    ],
  },
  (err, result) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify(result));
  },
);
