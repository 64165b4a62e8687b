package runwaretest

import (
	"net/http"
	"strconv"
	"strings"
)

// maxOutputTokens is Kimi K2.6's output limit as GET /v1/models reports it.
const maxOutputTokens = 49152

// modelJSON is one entry of GET /v1/models, with prices in USD per token as
// decimal strings.
type modelJSON struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	ContextLength   int               `json:"context_length"`
	MaxOutputTokens int               `json:"max_output_tokens"`
	InputModalities []string          `json:"input_modalities"`
	Pricing         map[string]string `json:"pricing"`
}

// perToken formats a per-million price per token, without binary noise.
func perToken(perMillion float64) string {
	s := strconv.FormatFloat(perMillion/1e6, 'f', 15, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func (h *Handler) serveModels(w http.ResponseWriter, r *http.Request) {
	if !h.keyOK(bearer(r)) {
		h.fail(w, http.StatusUnauthorized, []apiError{invalidAPIKey})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": []modelJSON{{
		ID:              "moonshotai-kimi-k2-6",
		Name:            "Kimi K2.6",
		ContextLength:   262144,
		MaxOutputTokens: maxOutputTokens,
		InputModalities: []string{"text", "image", "video"},
		Pricing:         map[string]string{"prompt": perToken(h.pricing.Input), "completion": perToken(h.pricing.Output)},
	}}})
}
