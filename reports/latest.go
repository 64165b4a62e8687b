package reports

import "github.com/promptgrid/promptgrid/journal"

// Which journal line of a sample counts is the journal's rule
// (journal.ReadLatest): reports read through it.

// SampleKey identifies one sample of a run (journal.SampleKey).
func SampleKey(r *journal.Record) string { return journal.SampleKey(r) }

// ReadInfo says what ReadLatest passed over (journal.ReadInfo).
type ReadInfo = journal.ReadInfo

// ReadLatest streams the counted line of every sample (journal.ReadLatest).
func ReadLatest(path string, fn func(*journal.Record) error) (ReadInfo, error) {
	return journal.ReadLatest(path, fn)
}
