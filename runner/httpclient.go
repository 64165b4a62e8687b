package runner

import "net/http"

// HTTPClient returns an HTTP client for a run of up to concurrency requests
// in flight. The default transport keeps only two idle connections per host,
// so a run with more in flight would open and close a connection for most
// requests (the CPU profile of BENCHMARKS.md showed dialing as a top cost);
// this one keeps one idle connection per possible request in flight.
func HTTPClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	n := max(concurrency, DefaultConcurrency)
	t.MaxIdleConns = max(n, t.MaxIdleConns)
	t.MaxIdleConnsPerHost = n
	return &http.Client{Transport: t}
}
