package runware

import (
	"reflect"
	"testing"
)

// decodeAnswerCases are bodies whose data items decodeAnswer must decode as
// decodeItem decodes each: the usual answer, failed items, items that do
// not decode, a lone object, a repeated "data" key, keys in another case.
var decodeAnswerCases = []struct {
	status int
	body   string
}{
	{200, `{"data":[{"taskType":"textInference","taskUUID":"a","text":"x","finishReason":"stop","usage":{"promptTokens":1,"completionTokens":2,"totalTokens":3},"cost":0.5,"seed":7}]}`},
	{200, `{"data":[{"taskUUID":"a","text":"x"}],"errors":[{"code":"invalidModel","message":"m","taskUUID":"b","parameter":["x","y"]}]}`},
	{200, `{"data":[{"taskUUID":"a","status":"error","error":{"code":"timeoutProvider","message":"t"}},{"taskUUID":"b","status":"error","code":7,"message":null}]}`},
	{200, `{"data":[{"taskUUID":"a","status":"success"},{"taskUUID":"b","status":"processing"}]}`},
	{200, `{"data":[{"taskUUID":"a","text":7},{"taskUUID":"b","text":"ok"}]}`},
	{200, `{"data":[{"taskUUID":"a","text":"x"},"a string",null,3]}`},
	{200, `{"data":{"taskUUID":"b","text":"lone object"}}`},
	{200, `{"data":[{"taskUUID":"a","text":"first","finishReason":"stop"},{"taskUUID":"b","text":"y"}],"data":[{"taskUUID":"a","text":"second"}]}`},
	{200, `{"DATA":[{"TaskUUID":"a","TEXT":"x","resultindex":1}],"Data":null}`},
	{200, `{"data":[],"error":"just a string"}`},
	{200, `{"data":null}`},
	{200, `{"data":"nope"}`},
	{200, `{"data":[{"taskUUID":"a","text":"x","toolCalls":[{"id":"c","name":"f","arguments":{"q":1}}]}]}`},
	{200, `{"data":[{"taskUUID":"a","text":"x","usage":{"promptTokens":"many"}}]}`},
	{429, `{"error":{"code":"rateLimitExceeded","message":"slow down"},"taskUUID":"a"}`},
	{500, `{"data":[{"taskUUID":"a","text":"x"}],"errors":{"message":{"nested":true}}}`},
	{502, `<html>bad gateway</html>`},
	{200, `{"data":[{"taskUUID":"a","text":"x"}`},
	{200, `{"data":[{"taskUUID":"a","text":"x","finishReason":"stop"}],"DaTa":[{"taskUUID":"a"}]}`},
	{200, `{"data":[{"taskUUID":"a","text":"x","finishReason":"stop"}],"d\u0061ta":[{"taskUUID":"a"}]}`},
	{200, `{"d\u0061ta":[{"taskUUID":"a","text":"x"}], "note":"data", "x":{"data":[1]}, "data\"":1}`},
	{200, ` { "data" : [ {"taskUUID":"a","text":"x\"}]"} ] , "errors" : [ ] , "n" : -1.5e3 , "t" : true } `},
	{200, `{"data":[{"taskUUID":"a","text":"x"}]} trailing`},
	{200, `{"taſkUUID":"a","error":{"message":"m"},"data":[{"text":"x"}]}`},
}

// checkDecodeAnswer fails when decodeAnswer's results or errors differ from
// decodeEnvelope's with every raw item decoded by decodeItem.
func checkDecodeAnswer(t *testing.T, status int, body []byte) {
	t.Helper()
	want, wantErr := decodeEnvelope(body, status)
	got, gotErr := decodeAnswer(body, status)
	if !reflect.DeepEqual(gotErr, wantErr) {
		t.Fatalf("status %d, body %q: error %+v, want %+v", status, body, gotErr, wantErr)
	}
	if len(got.items) != 0 {
		t.Fatalf("body %q: %d items left raw", body, len(got.items))
	}
	if w, g := want.itemResults(status), got.itemResults(status); !reflect.DeepEqual(g, w) {
		t.Fatalf("status %d, body %q:\nresults %+v\nwant    %+v", status, body, g, w)
	}
	if !reflect.DeepEqual(got.errs, want.errs) {
		t.Fatalf("status %d, body %q: errs %+v, want %+v", status, body, got.errs, want.errs)
	}
}

// dataKeys counts what json.Unmarshal may file under "data".
func TestDataKeys(t *testing.T) {
	for _, c := range []struct {
		obj  string
		want int
	}{
		{`{}`, 0},
		{`{"data":[]}`, 1},
		{`{"data":[],"DATA":null}`, 2},
		{`{"d\u0061ta":1}`, 1}, // an escape counts, read or not
		{`{"x":"data","y":{"data":1},"z":["data"]}`, 0}, // values and nested keys do not
		{`{ "a" : [ "]" , { } ] , "Data" : "}" } `, 1},
		{`{"data":1,`, 2}, // not a valid object: cannot tell
		{`{"data"`, 2},
	} {
		if got := dataKeys([]byte(c.obj)); got != c.want {
			t.Errorf("dataKeys(%s) = %d, want %d", c.obj, got, c.want)
		}
	}
}

func TestDecodeAnswerAsEachItem(t *testing.T) {
	for _, c := range decodeAnswerCases {
		checkDecodeAnswer(t, c.status, []byte(c.body))
	}
}

// Every native JSON payload of the reference set decodes the same both ways.
func TestDecodeAnswerReferencePayloads(t *testing.T) {
	for body, status := range referencePayloads(t) {
		checkDecodeAnswer(t, status, []byte(body))
	}
}

func FuzzDecodeAnswer(f *testing.F) {
	for _, c := range decodeAnswerCases {
		f.Add(c.status, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		checkDecodeAnswer(t, status, body)
	})
}
