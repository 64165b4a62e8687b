package main

import (
	"fmt"
	"strings"
)

// plural formats a count with its noun, singular for exactly one: "1 trial",
// "3 trials", "0 samples", "2 retries".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %s", n, pluralNoun(noun))
}

// pluralNoun is the plural of an English noun of ours: a consonant + y
// becomes ies (retry, retries), anything else takes an s.
func pluralNoun(noun string) string {
	if len(noun) >= 2 && strings.HasSuffix(noun, "y") && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])) {
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}

// verb picks the form of a verb that agrees with a count: one for exactly 1,
// many otherwise ("1 of 4 cases fails", "2 of 4 cases fail").
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ofTotal formats "k of n nouns" with the noun agreeing with n:
// "1 of 1 case", "2 of 5 cases".
func ofTotal(k, n int, noun string) string {
	return fmt.Sprintf("%d of %s", k, plural(n, noun))
}
