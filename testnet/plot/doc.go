// Package plot draws the PNG figures of Pilot's testnet report: the degree
// CCDF with its fitted power laws, the power-law exponent over time, Polo
// score against partner degree, the k-core layers and the preferential
// attachment fit.
//
// Every figure is Width × Height pixels with a title, labelled axes with
// units, log scales where the quantity spans decades, a legend placed in the
// emptiest corner of the data area, and fonts sized for reading on screen.
// Every function validates its input: malformed values (negative counts,
// inverted intervals, a missing output directory) are errors, NaN and ±Inf
// values are dropped, and input with nothing left to draw still yields a
// valid figure that says "no data", so a report can link its figures
// unconditionally. Files are written atomically: a temporary file in the
// target directory, renamed over path once complete.
package plot
