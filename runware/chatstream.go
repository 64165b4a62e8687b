package runware

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// chatStream folds chat.completion.chunk payloads: content, reasoning and
// tool-call deltas per choice (tool calls accumulated by their index), the
// finish_reason of each choice and the usage chunk that stream_options
// include_usage adds before [DONE]. An error object mid-stream ends it.
type chatStream struct {
	acc  *chatAccumulator
	done bool
	err  *Error
}

// feed applies one payload and reports whether the stream is over.
func (s *chatStream) feed(payload []byte, now time.Time) bool {
	if string(payload) == sseDone {
		s.done = true
		return true
	}
	var cr chatResponse
	if err := json.Unmarshal(payload, &cr); err != nil {
		s.err = malformed(0, fmt.Sprintf("decode chat chunk: %v", err), payload)
		return true
	}
	for _, raw := range []json.RawMessage{cr.Errors, cr.Error} {
		errs, err := decodeErrors(raw, 0)
		if err != nil {
			s.err = malformed(0, fmt.Sprintf("decode chat stream error: %v", err), payload)
			return true
		}
		if len(errs) > 0 {
			s.err = errs[0]
			return true
		}
	}
	s.acc.add(cr, now)
	if s.acc.err != nil {
		s.err = s.acc.err
		return true
	}
	return false
}

// readChatStream reads a streamed chat answer into resp.
func (c *Client) readChatStream(ctx context.Context, task Task, resp *Response, ex *exchange) {
	defer ex.resp.Body.Close()
	st := &chatStream{acc: newChatAccumulator(task, &ex.timings)}
	st.acc.maxBytes = c.maxResultBytes
	readErr := c.readStream(ctx, ex, st.feed)
	ex.timings.Done = time.Now()
	setExchange([]*Response{resp}, ex)
	results, err := st.acc.finish(st.done && st.err == nil, readErr)
	if st.err != nil {
		err = st.err
		if err.TaskUUID == "" {
			err.TaskUUID = task.TaskUUID
		}
		for i := range results {
			results[i].Err = err // an error event fails every choice, finished or not
		}
	}
	resp.Results, resp.Err = results, err
}
