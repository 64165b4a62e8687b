package eval

import (
	"regexp"
	"sync"
)

// cachedRegexp compiles an RE2 pattern once: a casesFrom template's check
// is compiled for every row, and most rows share their patterns. A
// *regexp.Regexp is safe for concurrent use. The cache holds at most
// maxRegexpCache patterns (past that, compile every time), so that a data
// file with a distinct pattern per row costs no more memory than before.
func cachedRegexp(src string) (*regexp.Regexp, error) {
	regexpCache.Lock()
	re, ok := regexpCache.m[src]
	regexpCache.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	regexpCache.Lock()
	if len(regexpCache.m) < maxRegexpCache {
		regexpCache.m[src] = re
	}
	regexpCache.Unlock()
	return re, nil
}

const maxRegexpCache = 10_000

var regexpCache = struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}{m: map[string]*regexp.Regexp{}}
