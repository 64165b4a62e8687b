package runware

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"testing/iotest"
)

// FuzzSSE: any body is read without panicking, the payloads do not depend on
// how the body is split into reads, and a stream reported as successful did
// end with [DONE] or with every result finished.
func FuzzSSE(f *testing.F) {
	for _, s := range []string{
		"data: {\"delta\":{\"text\":\"Hello\"},\"taskUUID\":\"t1\"}\n\ndata: [DONE]\n\n",
		"data:{\"delta\":{\"reasoningContent\":\"r\"}}\r\ndata: {\"finishReason\":\"stop\",\"usage\":{\"promptTokens\":1,\"completionTokens\":1,\"totalTokens\":2},\"cost\":0.1}\r\n",
		": ping\n:\nevent: message\n  data:  {\"delta\":{\"text\":\"hi\"}}  \n",
		"data: {\"errors\":[{\"code\":\"timeoutProvider\",\"message\":\"x\"}]}\n",
		"data: {\"error\":{\"code\":\"rateLimitExceeded\",\"message\":\"slow\"}}\n",
		"data: {\"a\":\ndata: 1}\n\ndata: {\"resultIndex\":2,\"delta\":{\"text\":\"z\"}}\r",
		"data: {\"data\":{\"delta\":{\"text\":\"w\"}}}\ndata: {\"data\":[{\"finishReason\":\"stop\",\"text\":\"full\"}]}\n",
		"data: {\"delta\":null,\"finishReason\":7,\"usage\":{\"promptTokens\":\"x\"}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		whole, errWhole := readAll(bytes.NewReader(body))
		bytewise, errByte := readAll(iotest.OneByteReader(bytes.NewReader(body)))
		if (errWhole == nil) != (errByte == nil) || !slices.Equal(whole, bytewise) {
			t.Fatalf("payloads depend on read sizes: %q (%v) vs %q (%v)", whole, errWhole, bytewise, errByte)
		}
		st := newNativeStream(streamTask(), &Timings{})
		_ = readStreamTest(bytes.NewReader(body), st.feed)
		results, err := st.finish(nil)
		if err != nil {
			if err.Class == "" {
				t.Fatalf("error without class: %+v", err)
			}
			return
		}
		if !st.done {
			for _, r := range results {
				if r.FinishReason == "" {
					t.Fatalf("unfinished result reported as success: %+v", r)
				}
			}
		}
	})
}

// FuzzDecodeResponse: any body under any status is decoded without
// panicking, and every task of the request ends with results or a classified
// error.
func FuzzDecodeResponse(f *testing.F) {
	seeds := []struct {
		status int
		body   string
	}{
		{200, `{"data":[{"taskType":"textInference","taskUUID":"a","text":"x","finishReason":"stop","usage":{"promptTokens":1,"completionTokens":2,"totalTokens":3},"cost":0.5}]}`},
		{200, `{"data":[{"taskUUID":"a","text":"x"}],"errors":[{"code":"invalidModel","message":"m","taskUUID":"b","parameter":["x","y"]}]}`},
		{401, `{"errors":[{"code":"invalidApiKey","message":"Invalid API key","parameter":"apiKey","taskType":"authentication"}]}`},
		{429, `{"error":{"code":"rateLimitExceeded","message":"slow down"},"taskUUID":"a"}`},
		{500, `{"error":[{"code":"internalServerError","message":"boom"}]}`},
		{400, `{"error":{"message":"bad","type":"invalid_request_error","param":"n","code":null}}`},
		{200, `{"data":[{"taskUUID":"a","status":"error","error":{"code":"timeoutProvider","message":"t"}},{"taskUUID":"b","status":"error","code":7,"message":null}]}`},
		{200, `{"data":{"taskUUID":"b","text":"lone object"}}`},
		{502, `<html>bad gateway</html>`},
		{200, `[]`},
		{200, `{"error":"just a string"}`},
	}
	for _, s := range seeds {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		tasks := []Task{textTask("a"), textTask("b")}
		resps := []*Response{{TaskUUID: "a"}, {TaskUUID: "b"}}
		ex := &exchange{resp: &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}}
		c := NewClient(testKey)
		c.handleJSON(context.Background(), tasks, resps, ex)
		for _, r := range resps {
			if r.Err == nil && len(r.Results) == 0 {
				t.Fatalf("task %s has neither results nor error", r.TaskUUID)
			}
			if r.Err != nil && r.Err.Class == "" {
				t.Fatalf("error without class: %+v", r.Err)
			}
			for _, res := range r.Results {
				if res.TaskUUID != r.TaskUUID {
					t.Fatalf("result of %s filed under %s", res.TaskUUID, r.TaskUUID)
				}
			}
		}
	})
}
