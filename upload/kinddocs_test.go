package upload

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/docs"
)

// The docs describe the kinds of the kind table: the kind enums of
// docs/openapi.json and the size limits of docs/protocol.md. Adding a kind
// to chatcore/mediakind.go fails here until the docs say so too.
func TestKindTableMatchesDocs(t *testing.T) {
	var kinds []string
	var sizes []string
	for _, k := range chatcore.MediaKinds() {
		kinds = append(kinds, string(k.Kind))
		sizes = append(sizes, string(k.Kind)+" "+formatBytes(k.MaxBytes))
	}

	var spec struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(docs.OpenAPI, &spec); err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{"UploadRequest", "Attachment"} {
		if got := spec.Components.Schemas[schema].Properties["kind"].Enum; !slices.Equal(got, kinds) {
			t.Errorf("openapi.json %s.kind enum is %v, the kind table has %v", schema, got, kinds)
		}
	}

	protocol, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "| upload size per kind | " + strings.Join(sizes, ", ") + " |"; !strings.Contains(string(protocol), want) {
		t.Errorf("docs/protocol.md lacks the row %q", want)
	}
}
