package main

import "testing"

// TestPlural: messages say "1 trial", never "1 trials".
func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{plural(1, "trial"), "1 trial"},           // exactly one: singular
		{plural(0, "sample"), "0 samples"},        // zero takes the plural
		{plural(3, "run"), "3 runs"},              // several
		{plural(2, "retry"), "2 retries"},         // consonant + y
		{plural(2, "day"), "2 days"},              // vowel + y
		{ofTotal(1, 1, "case"), "1 of 1 case"},    // the noun agrees with the total
		{ofTotal(1, 4, "suite"), "1 of 4 suites"}, // several in all
		{verb(1, "fails", "fail"), "fails"},       // one subject
		{verb(2, "fails", "fail"), "fail"},        // several
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
