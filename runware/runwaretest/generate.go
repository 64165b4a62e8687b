package runwaretest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/promptgrid/promptgrid/runware"
)

// CountTokens is the simulator's token count of s: one token per four
// characters (Unicode code points), rounded up. It is used for prompt,
// completion and thinking tokens alike.
func CountTokens(s string) int { return (utf8.RuneCountInString(s) + 3) / 4 }

// truncateTokens keeps the first n tokens of s (4n characters).
func truncateTokens(s string, n int) string {
	i := 0
	for pos := range s {
		if i == 4*n {
			return s[:pos]
		}
		i++
	}
	return s
}

// generation is one simulated result, before delivery.
type generation struct {
	Index          int
	Seed           uint64
	Text           string
	Reasoning      string
	FinishReason   string
	ToolCalls      []genToolCall
	PromptTokens   int
	TextTokens     int // visible completion tokens
	ThinkingTokens int
	Cost           float64
	TTFT           time.Duration // unscaled
	TokenTime      time.Duration // unscaled, per token
	Correct        *bool         // set when a scenario matched
}

type genToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// CompletionTokens counts visible and thinking tokens, as the API's
// completionTokens does.
func (g *generation) CompletionTokens() int { return g.TextTokens + g.ThinkingTokens }

// duration is the unscaled time from request to the last token.
func (g *generation) duration() time.Duration {
	return g.TTFT + time.Duration(g.TextTokens+g.ThinkingTokens)*g.TokenTime
}

// compiledScenario is a Scenario with its regex compiled.
type compiledScenario struct {
	Scenario
	re *regexp.Regexp
}

// CheckScenarios reports the first scenario that cannot be used (a bad
// regex, a probability outside [0,1], an unknown thinking level).
func CheckScenarios(scs []Scenario) error {
	_, err := compileScenarios(scs)
	return err
}

func compileScenarios(scs []Scenario) ([]compiledScenario, error) {
	out := make([]compiledScenario, 0, len(scs))
	for i, s := range scs {
		label := fmt.Sprintf("scenario %d", i+1)
		if s.Name != "" {
			label += fmt.Sprintf(" (%s)", s.Name)
		}
		cs := compiledScenario{Scenario: s}
		if err := checkImageMatch(label, s.Match.Image); err != nil {
			return nil, err
		}
		if s.Match.Regex != "" {
			re, err := regexp.Compile(s.Match.Regex)
			if err != nil {
				return nil, fmt.Errorf("%s: match.regex: %w", label, err)
			}
			cs.re = re
		}
		if err := checkPCorrect(label, "pCorrect", s.PCorrect); err != nil {
			return nil, err
		}
		for name, m := range map[string]map[string]Dist{"thinkingTokens": s.ThinkingTokens, "ttft": s.TTFT} {
			for lv := range m {
				if !validLevel(lv) {
					return nil, fmt.Errorf("%s: %s: unknown thinking level %q", label, name, lv)
				}
			}
		}
		if s.ToolCall != nil {
			if err := checkToolCallSpec(label, "toolCall", *s.ToolCall); err != nil {
				return nil, err
			}
		}
		if err := checkSteps(label, s); err != nil {
			return nil, err
		}
		if err := checkBuiltins(label, s); err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, nil
}

func validLevel(lv string) bool {
	for _, l := range thinkingLevels {
		if l == lv {
			return true
		}
	}
	return false
}

func levelIndex(lv string) int {
	for i, l := range thinkingLevels {
		if l == lv {
			return i
		}
	}
	return 0
}

// nearestLevel returns the value for level lv in m, or for the nearest listed
// level (ties go to the lower level).
func nearestLevel(m map[string]float64, lv string) (float64, bool) {
	if v, ok := m[lv]; ok {
		return v, true
	}
	at := levelIndex(lv)
	for d := 1; d < len(thinkingLevels); d++ {
		for _, i := range []int{at - d, at + d} {
			if i >= 0 && i < len(thinkingLevels) {
				if v, ok := m[thinkingLevels[i]]; ok {
					return v, true
				}
			}
		}
	}
	return 0, false
}

func (cs *compiledScenario) matches(msg string) bool {
	m := cs.Match
	if m.Exact != "" && strings.TrimSpace(msg) != m.Exact {
		return false
	}
	if m.Contains != "" && !strings.Contains(msg, m.Contains) {
		return false
	}
	if cs.re != nil && !cs.re.MatchString(msg) {
		return false
	}
	return true
}

// lastUserMessage is what scenarios match against.
func lastUserMessage(msgs []runware.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

// promptHash identifies the conversation: system prompt, messages, media.
func (t *textTask) promptHash() uint64 { return t.conversationHash(len(t.Messages)) }

// baseHash identifies the conversation up to and including the last user
// message: the correctness draws depend only on it, the seed, the result
// index and the turn (see draw), so that at a fixed seed a higher pCorrect
// never turns a right answer wrong, whatever the turns before it did.
func (t *textTask) baseHash() uint64 {
	n := len(t.Messages)
	for n > 0 && t.Messages[n-1].Role != "user" {
		n--
	}
	return t.conversationHash(n)
}

// conversationHash hashes the system prompt, the first n messages and the
// media inputs.
func (t *textTask) conversationHash(n int) uint64 {
	h := newHasher().str(t.SystemPrompt)
	for _, m := range t.Messages[:n] {
		h.str(m.Role).str(m.Content)
		hashToolFields(h, m)
	}
	for _, k := range append(t.images, t.videos...) {
		h.str("media").str(k.sha).str(k.name)
	}
	return h.sum()
}

// fullHash adds everything else that shapes the output: thinking level,
// sampling settings and the tools offered.
func (t *textTask) fullHash() uint64 {
	h := newHasher().u64(t.promptHash()).str(t.Thinking).str(t.sampling)
	for _, tl := range t.Tools {
		h.str(tl.Type).str(tl.Name)
	}
	if t.ToolChoice != nil {
		h.str(t.ToolChoice.Type).str(t.ToolChoice.Name)
	}
	return h.sum()
}

func (t *textTask) promptTokens() int {
	n := CountTokens(t.SystemPrompt)
	for _, m := range t.Messages {
		n += CountTokens(m.Content) + toolTokens(m)
	}
	return n
}

var vocabulary = strings.Fields(`the a model answer result value system data signal pattern input output
question context reason simple clear short direct careful likely first second final step method case
example detail point number city country river mountain language history science theory measure rate
level small large early late quick slow bright quiet strong light is was can will may should often
rarely always never because therefore however also then when where which that this these those`)

var thinkWords = strings.Fields(`the let see now why how try use map sum key fit yes not all one two set
new old big can may but for out our its say way end add cut mix run get put ask aim`)

// match is the scenario that answers task t: the first whose match and
// image conditions hold for it; nil when none does.
func (h *Handler) match(t *textTask) *compiledScenario {
	last := lastUserMessage(t.Messages)
	for k := range h.scenarios {
		if h.scenarios[k].matches(last) && h.scenarios[k].imageMatches(t.images) {
			return &h.scenarios[k]
		}
	}
	return nil
}

// generate simulates result index i of task t with base seed.
func (h *Handler) generate(t *textTask, i int) *generation {
	seed := t.Seed + uint64(i)
	full := t.fullHash()
	g := &generation{Index: i, Seed: seed, FinishReason: "stop", PromptTokens: t.promptTokens()}

	sc := h.match(t)

	// Thinking tokens and reasoning text.
	dist := defaultThinkingTokens[t.Thinking]
	if sc != nil {
		if d, ok := sc.ThinkingTokens[t.Thinking]; ok {
			dist = d
		}
	}
	g.ThinkingTokens = int(dist.draw(newRand(full, seed, "thinking")) + 0.5)
	// maxTokens bounds every completion token, thinking included, so
	// reasoning can use up the whole allowance and leave no visible text.
	if t.MaxTokens > 0 && g.ThinkingTokens > t.MaxTokens {
		g.ThinkingTokens = t.MaxTokens
	}
	if g.ThinkingTokens > 0 {
		r := newRand(full, seed, "reasoning")
		var b strings.Builder
		for range g.ThinkingTokens {
			b.WriteString(thinkWords[r.IntN(len(thinkWords))])
			b.WriteByte(' ')
		}
		g.Reasoning = b.String()
	}

	// Latency model.
	ttft, tokenTime := defaultTTFT[t.Thinking], defaultTokenTime
	if sc != nil {
		if d, ok := sc.TTFT[t.Thinking]; ok {
			ttft = d
		}
		if !sc.TokenTime.isZero() {
			tokenTime = sc.TokenTime
		}
	}
	lat := newRand(full, seed, "latency")
	g.TTFT = msDuration(ttft.draw(lat))
	g.TokenTime = msDuration(tokenTime.draw(lat))

	// Tool calls, or a text answer.
	if calls, text := h.respond(t, sc, full, seed, g); len(calls) > 0 {
		for n := range calls {
			// The call index keeps parallel calls of one tool apart.
			calls[n].ID = fmt.Sprintf("call_%016x_%d", newHasher().u64(full).u64(seed).str(calls[n].Name).sum(), n)
			g.TextTokens += CountTokens(calls[n].Name + string(calls[n].Arguments))
		}
		g.ToolCalls = calls
		g.FinishReason = "tool_calls"
	} else {
		text, g.FinishReason = applyLimits(text, t.Stop, t.MaxTokens, g.ThinkingTokens)
		g.Text = text
		g.TextTokens = CountTokens(text)
	}

	p := h.pricing
	g.Cost = (float64(g.PromptTokens)*p.Input + float64(g.TextTokens)*p.Output + float64(g.ThinkingTokens)*p.Thinking) / 1e6
	return g
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// genericText is the default answer: 12 to 48 words from a fixed
// vocabulary, opened by a reference to the prompt.
func genericText(t *textTask, r *rand.Rand) string {
	topic := []rune(strings.Join(strings.Fields(lastUserMessage(t.Messages)), " "))
	if len(topic) > 40 {
		topic = append(topic[:40], '…')
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Simulated answer to %q", string(topic))
	writeToolEcho(&b, t) // after a tool result, quote it
	b.WriteByte(':')
	n := 12 + r.IntN(37)
	for i := range n {
		b.WriteByte(' ')
		b.WriteString(vocabulary[r.IntN(len(vocabulary))])
		if i == n-1 || r.IntN(10) == 0 {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// applyLimits cuts text before the earliest stop sequence (finishReason
// "stop"), then to what maxTokens leaves after the thinking tokens
// (finishReason "length").
func applyLimits(text string, stop []string, maxTokens, thinking int) (string, string) {
	cut := -1
	for _, s := range stop {
		if i := strings.Index(text, s); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		text = text[:cut]
	}
	if maxTokens > 0 {
		room := maxTokens - thinking
		if room <= 0 {
			return "", "length"
		}
		if CountTokens(text) > room {
			return truncateTokens(text, room), "length"
		}
	}
	return text, "stop"
}

// pickToolCall decides whether the result of a scenario without steps is a
// tool call: the scenario's call when its tool is offered and toolChoice is
// not "none"; otherwise, when toolChoice forces a call ("tool" or "any"), a
// call of the named (or first) function tool with the scenario's arguments
// when names agree, else {}. When the last message is a tool result there
// is never a call: the model answers in text.
func pickToolCall(t *textTask, sc *compiledScenario) *genToolCall {
	if n := len(t.Messages); toolChoiceType(t) == "none" || (n > 0 && t.Messages[n-1].Role == "tool") {
		return nil // no call, or the tool result is in: answer in text
	}
	args := func(name string) json.RawMessage {
		if sc != nil && sc.ToolCall != nil && sc.ToolCall.Name == name {
			return specArguments(*sc.ToolCall)
		}
		return json.RawMessage(`{}`)
	}
	if toolChoiceType(t) != "tool" && sc != nil && sc.ToolCall != nil && offeredFunction(t, sc.ToolCall.Name) {
		return &genToolCall{Name: sc.ToolCall.Name, Arguments: args(sc.ToolCall.Name)}
	}
	if name := forcedTool(t); name != "" {
		return &genToolCall{Name: name, Arguments: args(name)}
	}
	return nil
}

// toolChoiceType is the task's toolChoice type, "auto" when it sends none.
func toolChoiceType(t *textTask) string {
	if t.ToolChoice != nil {
		return t.ToolChoice.Type
	}
	return "auto"
}

// forcedTool is the function tool a call must use when toolChoice forces
// one: the named tool for "tool", the first function tool for "any"; ""
// when no call is forced.
func forcedTool(t *textTask) string {
	switch toolChoiceType(t) {
	case "tool":
		return t.ToolChoice.Name
	case "any":
		for _, tl := range t.Tools {
			if tl.Type == "function" {
				return tl.Name
			}
		}
	}
	return ""
}

// offeredFunction reports whether the task offers a function tool named name.
func offeredFunction(t *textTask, name string) bool {
	for _, tl := range t.Tools {
		if tl.Type == "function" && tl.Name == name {
			return true
		}
	}
	return false
}

// offeredType reports whether the task offers a tool of type typ.
func offeredType(t *textTask, typ string) bool {
	for _, tl := range t.Tools {
		if tl.Type == typ {
			return true
		}
	}
	return false
}

// compactJSON re-encodes a JSON value without insignificant space.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}
