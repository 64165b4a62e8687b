package reports

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCompareDifferentSeedsPairsByCase: two runs whose seeds differ have no
// sample in common; compare pairs them by case instead (it used to give "no
// samples in common"), finds a planted 25-point drop, says which pairing it
// used in every format, and leaves nothing out as unpaired.
func TestCompareDifferentSeedsPairsByCase(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	cases := simCases(rng, 60, 0)
	worse := make([]simCase, len(cases))
	for i, c := range cases {
		worse[i] = c
		worse[i].p = max(0, c.p-0.25)
	}
	base := simRun(rng, "base", 1, cases, 3, 1, 0, 0.4)
	head := simRun(rng, "head", 1, worse, 5, 1, 1000, 0.4)
	c := compareWith(base, head, 0.05)
	if c.Pairing != PairingCase || len(c.Cells) != 1 || c.BaseOnly != 0 || c.HeadOnly != 0 {
		t.Fatalf("pairing %q, %d cells, unpaired %d/%d; want case pairing of 1 cell, nothing left out", c.Pairing, len(c.Cells), c.BaseOnly, c.HeadOnly)
	}
	d := c.Cells[0]
	if d.Verdict != VerdictWorse || d.Test != "sign-flip" || d.Cases != 60 || d.BaseSamples != 180 || d.HeadSamples != 300 || d.Pairs != 0 {
		t.Errorf("verdict %q test %q cases %d samples %d/%d pairs %d; want worse by sign-flip over 60 cases, 180 and 300 samples, 0 pairs",
			d.Verdict, d.Test, d.Cases, d.BaseSamples, d.HeadSamples, d.Pairs)
	}
	if !(d.Diff.Lo < -0.25 && -0.25 < d.Diff.Hi) {
		t.Errorf("diff %+v does not hold the planted -0.25", d.Diff)
	}
	for name, r := range map[string]Renderer{"table": CompareTable(c, true), "markdown": CompareMarkdown(c), "json": CompareJSON(c)} {
		var buf bytes.Buffer
		if err := r(&buf); err != nil {
			t.Fatal(err)
		}
		want := "Pairing: by case"
		if name == "json" {
			want = `"pairing": "case"`
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%s does not say the pairing (%q)", name, want)
		}
	}

	// The same seeds keep the exact paired analysis: McNemar with one
	// sample per case, sample pairing named in the notes.
	base1 := simRun(rand.New(rand.NewPCG(1, 1)), "base", 1, cases, 1, 1, 0, 0.4)
	head1 := simRun(rand.New(rand.NewPCG(2, 2)), "head", 1, worse, 1, 1, 0, 0.4)
	c1 := compareWith(base1, head1, 0)
	if c1.Pairing != PairingSample || c1.Cells[0].Test != "mcnemar" || c1.Cells[0].Pairs != 60 {
		t.Errorf("same seeds: pairing %q test %q pairs %d; want sample pairing, mcnemar, 60 pairs", c1.Pairing, c1.Cells[0].Test, c1.Cells[0].Pairs)
	}
	var buf bytes.Buffer
	if err := CompareTable(c1, true)(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Pairing: by sample") {
		t.Errorf("table does not say sample pairing:\n%s", buf.String())
	}
	// More seeds in head: the common seeds pair by sample, the rest are
	// counted as unpaired.
	head3 := simRun(rand.New(rand.NewPCG(3, 3)), "head", 1, cases, 5, 1, 0, 0.4)
	c3 := compareWith(base, head3, 0)
	if c3.Pairing != PairingSample || c3.Cells[0].Pairs != 180 || c3.HeadOnly != 120 {
		t.Errorf("more seeds: pairing %q pairs %d head only %d; want sample, 180, 120", c3.Pairing, c3.Cells[0].Pairs, c3.HeadOnly)
	}
}
