// Package reports turns run journals into summaries and renders them.
//
// Reports are pure functions of journals: they never call the API. An
// Aggregator takes records one at a time (Add) and produces a Summary on
// Close, keeping per-cell and per-case accumulators rather than the records
// themselves, so a journal of any size is read in one streaming pass (plus a
// first pass over keys that decides which of several lines for the same
// sample is the last and therefore the one that counts).
//
// A Summary is rendered by functions of the form func(io.Writer) error, one
// small file per format: the terminal table (tablewriter), Markdown, JSON
// (a versioned schema, see docs/report-schema.md), CSV, JUnit XML and a
// self-contained HTML page. Compare pairs the samples of two runs and
// decides, per cell, whether the head run is better, worse or not detectably
// different; Rescore scores stored responses again with the current checks.
//
// The measurement definitions are those of docs/metrics.md; the statistics
// themselves live in stats*.go.
package reports
