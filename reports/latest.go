package reports

import (
	"strconv"

	"github.com/promptgrid/promptgrid/journal"
)

// SampleKey identifies one sample of a run: its trial and result index.
// Several journal lines may carry the same key (a retried or resumed trial);
// the last one wins.
func SampleKey(r *journal.Record) string {
	k := r.TrialKey
	if k == "" {
		// Journals written without trial keys (hand-made ones) still
		// identify a sample by what the trial key hashes.
		k = r.CaseID + "\x00" + r.Variant + "\x00" + r.Cell + "\x00" + strconv.FormatInt(r.Seed, 10) + "\x00" + strconv.Itoa(r.Replicate)
	}
	return k + "\x00" + strconv.Itoa(r.ResultIndex)
}

// ReadInfo says what ReadLatest passed over.
type ReadInfo struct {
	// Lines is the number of records in the file.
	Lines int
	// Superseded counts lines replaced by a later line for the same sample.
	Superseded int
	// Incomplete counts samples whose last line is not terminal
	// (interrupted); they are not passed to fn.
	Incomplete int
	// PartialTail is true when the file ended in a cut-off line.
	PartialTail bool
}

// ReadLatest streams the journal at path to fn, passing for each sample only
// its last line, in file order, and skipping samples whose last line is not
// terminal. It reads the file twice (first the keys, then the records) so
// that it never holds more than one record and one small map entry per
// sample.
func ReadLatest(path string, fn func(*journal.Record) error) (ReadInfo, error) {
	var info ReadInfo
	last := map[string]int{}
	line := 0
	if _, err := journal.Read(path, func(r *journal.Record) error {
		last[SampleKey(r)] = line
		line++
		return nil
	}); err != nil {
		return info, err
	}
	info.Lines = line
	info.Superseded = line - len(last)
	line = 0
	st, err := journal.Read(path, func(r *journal.Record) error {
		i := line
		line++
		if last[SampleKey(r)] != i {
			return nil
		}
		if !r.Terminal() {
			info.Incomplete++
			return nil
		}
		return fn(r)
	})
	info.PartialTail = st.PartialTail
	return info, err
}
