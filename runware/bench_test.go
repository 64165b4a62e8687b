package runware

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
)

// answerTransport answers every native request in memory with one result
// per task, as the simulator does (no network, so that the benchmark
// measures the client's own work: encoding, decoding, routing).
type answerTransport struct{}

func (answerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	var tasks []struct {
		TaskUUID string `json:"taskUUID"`
	}
	if err := json.Unmarshal(body, &tasks); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString(`{"data":[`)
	for i, t := range tasks {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(`{"taskType":"textInference","taskUUID":"` + t.TaskUUID + `","text":"Simulated answer 0 to question 0: the answer is 42.",` +
			`"finishReason":"stop","seed":707632555,"cost":0.000226,"usage":{"promptTokens":12,"completionTokens":40,"totalTokens":52},"resultIndex":0}`)
	}
	out.WriteString(`]}`)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(&out), ContentLength: int64(out.Len()), Request: req}, nil
}

// BenchmarkDoSync is one sync request per iteration, each on a goroutine of
// its own as promptgrid's runner sends them, with the body the throughput
// benchmark sends (bench/throughput.sh).
func BenchmarkDoSync(b *testing.B) {
	c := NewClient(testKey, WithHTTPClient(&http.Client{Transport: answerTransport{}}))
	temp, maxTokens, seed := 0.2, 64, int64(707632555)
	task := Task{TaskType: TaskTextInference, Model: KimiK26AIR, Messages: []Message{{Role: "user", Content: "question 0"}},
		Settings: &Settings{Temperature: &temp, MaxTokens: &maxTokens}, DeliveryMethod: DeliverySync,
		IncludeCost: true, IncludeUsage: true, NumberResults: 1, Seed: &seed}
	b.ReportAllocs()
	var wg sync.WaitGroup
	for b.Loop() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := task
			tk.TaskUUID = NewTaskUUID()
			resps, err := c.Do(context.Background(), []Task{tk})
			if err != nil || resps[0].Err != nil || len(resps[0].Results) != 1 {
				b.Errorf("Do: %v, %+v", err, resps)
			}
		}()
		wg.Wait()
	}
}

// BenchmarkDecodeAnswer decodes the simulator's answer to one task in one
// pass (decodeAnswer, by scanEnvelope), as json.Unmarshal decodes it in
// one pass (the fallback), and as before that, envelope first, then each
// item; "sim" is the simulator's own body (simAnswer).
func BenchmarkDecodeAnswer(b *testing.B) {
	body := []byte(`{"data":[{"taskType":"textInference","taskUUID":"ee9e31a4-aa9d-4ec3-b76b-000000000000",` +
		`"text":"Simulated answer 0 to question 0: the answer is 42.","finishReason":"stop","seed":707632555,` +
		`"cost":0.000226,"usage":{"promptTokens":12,"completionTokens":40,"totalTokens":52},"resultIndex":0}]}`)
	b.Run("once", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d, err := decodeAnswer(body, 200); err != nil || len(d.results) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("sim", func(b *testing.B) {
		sim := []byte(simAnswer)
		b.ReportAllocs()
		for b.Loop() {
			if d, err := decodeAnswer(sim, 200); err != nil || len(d.results) != 1 {
				b.Fatal(err)
			}
		}
	})
	for name, body := range map[string][]byte{"unmarshal": body, "sim unmarshal": []byte(simAnswer)} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, d, err, ok := referenceAnswer(body, 200, body); !ok || err != nil || len(d.results) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("envelope then items", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d, err := decodeEnvelope(body, 200); err != nil || len(d.itemResults(200)) != 1 {
				b.Fatal(err)
			}
		}
	})
}
