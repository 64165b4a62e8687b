package runner

import (
	"math"
	"strconv"
	"strings"
)

// formatUSD formats a dollar amount for messages so that amounts a budget
// message compares never print alike: below $1 it shows 4 significant
// figures ($0.0006234, $0.1235), from $1 on it shows cents ($12.35), with
// trailing zeros dropped down to two decimals ($0.0006, $0.50) and $0 for
// zero. $0.0006234 and $0.0006 stay apart where "%.4f" printed both as
// $0.0006.
func formatUSD(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "unknown"
	case v < 0:
		return "-" + formatUSD(-v)
	case v == 0:
		return "$0"
	}
	decimals := 2
	if v < 1 {
		// 4 significant figures: the first one is at decimal -floor(log10 v).
		decimals = max(2, 3-int(math.Floor(math.Log10(v))))
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		for len(s) > i+3 && s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
	}
	return "$" + s
}
