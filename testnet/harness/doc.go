// Package harness runs a Pilot testnet in one process: N real nodes (the
// node package, real go-libp2p hosts on loopback TCP, in-memory stores)
// and a workload of agents that find each other by capability tag through
// the DHT, choose a worker, submit tasks over port 1003 and attest the
// outcome as Polo — the network `pilot testnet run` measures.
//
// Each agent has a hidden quality q (the probability that a task it works
// on succeeds, decided deterministically from the task ID and the seed)
// and 1–3 capability tags it publishes in its profile. Agents repeatedly
// need a task with a tag drawn from a skewed demand, look the tag up
// (node.FindProviders, cached per agent and tag), leave themselves out, and choose
// a worker by one of three selection arms:
//
//   - reputation: node.Choose, probability rising with the requester's
//     own Polo view of each candidate, 10 % exploration of newcomers;
//   - random: uniformly, blind to reputation (the control);
//   - shuffled: reputation.Choose over the candidates' Polo scores
//     permuted among them — the same score distribution with its link to
//     identity broken (a second control).
//
// Optionally a fraction of the agents is a Sybil collective (low quality,
// advertising the popular tags, doing fake always-successful tasks among
// themselves to attest each other), and a fraction of the nodes churns
// (closes and restarts with the same identity) every minute.
//
// The harness records the distinct-task-partner graph (requester–worker
// pairs that completed a task), the live connection graph, per-node
// degree snapshots and the fitted power-law exponent over time, and the
// Polo scores that a few honest observers hold at the end; Run analyses
// them (testnet/analysis) and writes report.json, report.md, edges.csv,
// agents.csv and PNG plots (testnet/plot) into the output folder.
//
// Determinism: an agent's choices (its quality, tags, demanded tags and
// the worker it picks among given candidates with given scores) come from
// math/rand/v2 PCG streams seeded by the seed and the agent's index, and
// task outcomes from the seed and the task ID. What the network returns
// (candidates found, scores gossiped, timings) is not deterministic.
//
// Scale: a thousand nodes fit one two-core machine. Nodes use QUIC on
// loopback (one UDP socket per node whatever its connections, where TCP
// would need two descriptors per connection in this one process), start
// in doubling batches, and the workload is a closed loop of
// Config.Concurrency acting agents, so the task rate is what the network
// sustains (docs/testnet.md has the measurements behind each choice).
package harness
