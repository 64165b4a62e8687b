package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// JUnit renders one testsuite per cell and one testcase per case in it. A
// case that does not pass by its pass rule is a failure carrying the check
// reasons of its failing samples, or an error when every failing sample is a
// failed request. Control characters that XML 1.0 cannot hold are written
// as visible \xNN escapes, so the file is always well-formed.
func JUnit(s *Summary) Renderer {
	return func(w io.Writer) error {
		doc := junitSuites{Name: xmlSafe("promptgrid " + s.Suite)}
		for _, c := range s.Cells {
			js := junitSuite{Name: xmlSafe(c.Label), Properties: []junitProperty{
				{Name: "runId", Value: xmlSafe(s.RunID)}, {Name: "suiteHash", Value: xmlSafe(s.SuiteHash)},
				{Name: "passRate", Value: fmtRate(c.PassRate)},
				{Name: "finishLengthShare", Value: fmtPct(c.Truncation.LengthShare)},
				{Name: "emptyTextShare", Value: fmtPct(c.Truncation.EmptyShare)},
			}}
			if c.Cost.Partial || c.Cost.SpentLines > c.Cost.ReportedN+c.Cost.EstimatedN {
				js.Properties = append(js.Properties, junitProperty{Name: "cost", Value: fmtCost(c.Cost)})
			}
			if c.E2E.Censored > 0 {
				js.Properties = append(js.Properties,
					junitProperty{Name: "e2eCensored", Value: fmt.Sprintf("%d of %d requests", c.E2E.Censored, c.E2E.N)},
					junitProperty{Name: "e2eP95", Value: fmtQuantile(c.E2E, 0.95)})
			}
			if c.Steps != nil {
				js.Properties = append(js.Properties, junitProperty{Name: "steps", Value: fmtSteps(c.Steps)})
			}
			js.Properties = append(js.Properties, withinProperties(s.Within, c.Label)...)
			for _, l := range truncationWarnings([]*Cell{c}) {
				js.Properties = append(js.Properties, junitProperty{Name: "warning", Value: xmlSafe(l)})
			}
			if c.PerCaseOmitted > 0 {
				js.Properties = append(js.Properties, junitProperty{Name: "casesNotListed", Value: strconv.Itoa(c.PerCaseOmitted)})
			}
			var total float64
			for _, cs := range c.PerCase {
				jc := junitCase{Name: xmlSafe(cs.ID), Classname: xmlSafe(s.Suite + "." + c.Label), Time: "0"}
				if cs.E2E.Mean.Defined() {
					secs := float64(cs.E2E.Mean) * float64(cs.E2E.N-cs.E2E.Censored) / 1000
					total += secs
					jc.Time = strconv.FormatFloat(secs, 'f', 3, 64)
				}
				if !cs.Pass {
					p := &junitProblem{Type: "check", Message: xmlSafe(fmt.Sprintf("%d of %d samples passed", cs.Passed, cs.Samples)),
						Body: xmlSafe(junitBody(cs))}
					if cs.Errored > 0 && cs.Errored == cs.Samples-cs.Passed {
						p.Type = "request"
						jc.Error = p
						js.Errors++
					} else {
						jc.Failure = p
						js.Failures++
					}
					if len(cs.Failures) > 0 {
						jc.SystemOut = xmlSafe(cs.Failures[0].Text)
					}
				}
				js.Cases = append(js.Cases, jc)
			}
			js.Tests = len(js.Cases)
			js.Time = strconv.FormatFloat(total, 'f', 3, 64)
			doc.Tests += js.Tests
			doc.Failures += js.Failures
			doc.Errors += js.Errors
			doc.Suites = append(doc.Suites, js)
		}
		if _, err := io.WriteString(w, xml.Header); err != nil {
			return err
		}
		enc := xml.NewEncoder(w)
		enc.Indent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return fmt.Errorf("encode junit: %w", err)
		}
		_, err := io.WriteString(w, "\n")
		return err
	}
}

func junitBody(cs *Case) string {
	var b strings.Builder
	for _, f := range cs.Failures {
		fmt.Fprintf(&b, "seed %d, result %d:\n", f.Seed, f.ResultIndex)
		if f.Error != "" {
			fmt.Fprintf(&b, "  request failed: %s\n", f.Error)
		}
		for _, r := range f.Reasons {
			fmt.Fprintf(&b, "  %s\n", r)
		}
		if f.Trajectory != "" {
			fmt.Fprintf(&b, "  trajectory: %s\n", f.Trajectory)
		}
	}
	if shown := len(cs.Failures); cs.Samples-cs.Passed > shown {
		fmt.Fprintf(&b, "(%d more failing samples in the journal)\n", cs.Samples-cs.Passed-shown)
	}
	return b.String()
}

// xmlSafe replaces what XML 1.0 cannot contain (control characters other
// than tab, newline and carriage return; U+FFFE, U+FFFF; invalid UTF-8) with
// visible escapes.
func xmlSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}
