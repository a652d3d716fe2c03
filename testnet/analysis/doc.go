// Package analysis measures the topology of a pilot testnet: the degree
// distribution of an undirected graph fitted the Clauset–Shalizi–Newman
// (2009) way, and the structure around it.
//
// The power-law fit is the discrete maximum-likelihood estimate of alpha
// (numerical maximisation of the Hurwitz-zeta likelihood), with xmin chosen
// by minimum Kolmogorov–Smirnov distance (FitPowerLaw); its goodness of fit
// is the CSN semi-parametric bootstrap p-value (GoodnessOfFit), and it is
// compared with an exponential and a lognormal on the same tail by Vuong's
// normalised log-likelihood ratio (CompareExponential, CompareLognormal).
// Least squares on a log–log plot is never used. Verdict turns these
// numbers into one of three phrases, and says "heavy-tailed, power law not
// rejected" when that is all the data supports.
//
// Beside the fit: k-core layers (KCore), the rich-club coefficient
// normalised against degree-preserving rewiring (RichClubCoefficients),
// degree assortativity, average local clustering, and the preferential
// attachment exponent measured from two degree snapshots
// (AttachmentExponent). Analyze puts all of it into one Report whose JSON
// form is part of the testnet's report.json.
//
// Graphs are simple and undirected throughout: every function that takes
// []Edge drops self-loops, treats (u, v) and (v, u) as one edge and merges
// duplicates, so a node is an endpoint of at least one non-loop edge.
//
// Nothing here panics on bad input, and every result is deterministic for
// a given seed regardless of Options.Workers. Every float in a Report is
// finite, so it always encodes as JSON.
package analysis
