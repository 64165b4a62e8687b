package eval

import "encoding/json"

// MessageOverheadTokens bounds the chat-template tokens one message (or the
// system prompt) adds to a prompt: its role and separators.
const MessageOverheadTokens = 8

// TaskBound is the most one task can use and cost, computed one way for
// every consumer: plan's "cost high", the runner's --max-cost reservation,
// and (PromptEstimate) the tokens-per-minute bucket. Prompt tokens are
// bounded by UTF-8 bytes (no tokenizer makes a token of less than a byte)
// plus MessageOverheadTokens per message; output tokens per result by
// settings.maxTokens, else ModelMaxOutputTokens (thinking and visible
// output together).
type TaskBound struct {
	// PromptTokens bounds the prompt of one result; PromptEstimate is
	// plan's estimate of it, ceil(characters/4) per text.
	PromptTokens   int
	PromptEstimate int
	// OutputTokens bounds the output of one result; OutputAssumed is true
	// when the task set no maxTokens and the model maximum stands in.
	OutputTokens  int
	OutputAssumed bool
	// Results is numberResults (at least 1).
	Results int
}

// BoundTask bounds a task from its system prompt, the contents of its
// messages, its settings.maxTokens (0 = unset) and numberResults.
func BoundTask(systemPrompt string, contents []string, maxTokens, results int) TaskBound {
	b := TaskBound{Results: max(results, 1), OutputTokens: maxTokens}
	if maxTokens <= 0 {
		b.OutputTokens, b.OutputAssumed = ModelMaxOutputTokens, true
	}
	add := func(s string) {
		b.PromptTokens += len(s) + MessageOverheadTokens
		b.PromptEstimate += EstimateTokens(s)
	}
	if systemPrompt != "" {
		add(systemPrompt)
	}
	for _, c := range contents {
		add(c)
	}
	return b
}

// Cost is the most the task can cost under p: every result's prompt bound
// at the input price plus its output bound at the dearer of the output and
// thinking prices.
func (b TaskBound) Cost(p Pricing) float64 {
	out := max(p.Output, p.Thinking)
	return float64(b.Results) * (float64(b.PromptTokens)*p.Input + float64(b.OutputTokens)*out) / 1e6
}

// boundRequest bounds a trial's request (native task fields as decoded
// JSON) with results results.
func boundRequest(req map[string]any, results int) TaskBound {
	var system string
	var contents []string
	if st, ok := req["settings"].(map[string]any); ok {
		system, _ = st["systemPrompt"].(string)
	}
	if msgs, ok := req["messages"].([]any); ok {
		for _, m := range msgs {
			if mm, ok := m.(map[string]any); ok {
				// Every message counts, with or without content (an
				// assistant message may carry only tool calls).
				c, _ := mm["content"].(string)
				contents = append(contents, c)
				// A tool call the conversation replays is prompt too.
				if tools, ok := mm["tools"].([]any); ok {
					for _, tc := range tools {
						if tm, ok := tc.(map[string]any); ok {
							id, _ := tm["id"].(string)
							name, _ := tm["name"].(string)
							in, _ := json.Marshal(tm["input"])
							contents = append(contents, ToolCallText(id, name, in))
						}
					}
				}
			}
		}
	}
	mt, ok := maxTokens(req)
	if !ok {
		mt = 0
	}
	return BoundTask(system, contents, mt, results)
}

// ToolCallText is what a replayed tool call adds to a prompt's bound: its id,
// name and compact JSON input, one text per call.
func ToolCallText(id, name string, input []byte) string {
	return id + name + string(input)
}
