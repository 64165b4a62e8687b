package runner

import "testing"

// TestFormatUSD: budget messages must tell apart amounts that "%.4f"
// printed alike ("$0.0006 would pass --max-cost $0.0006 after $0.0000
// spent").
func TestFormatUSD(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "$0"},                       // nothing spent yet: not "$0.0000"
		{0.0006, "$0.0006"},             // a round cap keeps its digits and no more
		{0.000623456, "$0.0006235"},     // a trial's bound: 4 significant figures, apart from the cap above
		{0.00003, "$0.00003"},           // a tiny cost does not round to zero
		{0.0000000012, "$0.0000000012"}, // however small
		{0.1234567, "$0.1235"},          // 4 significant figures below $1
		{0.5, "$0.50"},                  // at least cents
		{0.99996, "$1.00"},              // rounding up to a dollar
		{1, "$1.00"},                    // cents from $1 on
		{12.345, "$12.35"},              // cents, rounded
		{1234.5, "$1234.50"},            // large amounts keep cents
		{-0.0006, "-$0.0006"},           // a negative difference
	} {
		if got := formatUSD(tc.v); got != tc.want {
			t.Errorf("formatUSD(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
