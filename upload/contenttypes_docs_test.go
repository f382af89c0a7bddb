package upload

import (
	"os"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// docs/protocol.md lists, per kind, exactly the declared content types the
// kind table accepts, so a client writer never has to read the source.
func TestProtocolListsContentTypesPerKind(t *testing.T) {
	protocol, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range chatcore.MediaKinds() {
		var want string
		if len(k.ContentTypes) == 1 && k.ContentTypes[0] == "*" {
			want = "| " + string(k.Kind) + " | any (omitted: `" + k.DefaultContentType + "`) |"
		} else {
			quoted := make([]string, len(k.ContentTypes))
			for i, ct := range k.ContentTypes {
				quoted[i] = "`" + ct + "`"
			}
			want = "| " + string(k.Kind) + " | " + strings.Join(quoted, ", ") + " |"
		}
		if !strings.Contains(string(protocol), want) {
			t.Errorf("docs/protocol.md lacks the content types row of %s: %q", k.Kind, want)
		}
	}
}
