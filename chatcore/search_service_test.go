package chatcore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

func TestSearchService(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.MustRegister(t, "alice").User
	b := h.MustRegister(t, "bob").User
	c := h.MustRegister(t, "carol").User
	conv, _, err := h.svc.Conversations.CreateConversation(ctx, a.ID, []string{b.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.Messages.Send(ctx, a.ID, chatcore.SendRequest{ConversationID: conv.ID, ClientID: "k1", Body: "Shall we meet for lunch tomorrow?"}); err != nil {
		t.Fatal(err)
	}

	hits, err := h.svc.Search.Search(ctx, b.ID, chatcore.SearchRequest{Query: "LUNCH tomor"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Message.ConversationID != conv.ID || hits[0].Message.Attachments == nil {
		t.Fatalf("bob: got %+v, want the lunch message", hits)
	}
	if want := "Shall we meet for \u0002lunch\u0003 \u0002tomorrow\u0003?"; hits[0].Snippet != want {
		t.Errorf("snippet = %q, want %q", hits[0].Snippet, want)
	}
	for _, tc := range []struct {
		name   string
		caller string
		req    chatcore.SearchRequest
		n      int
		code   string
	}{
		{"carol sees nothing", c.ID, chatcore.SearchRequest{Query: "lunch"}, 0, ""},
		{"carol names the conversation", c.ID, chatcore.SearchRequest{Query: "lunch", ConversationID: conv.ID}, 0, chatcore.ENotFound},
		{"unknown conversation", a.ID, chatcore.SearchRequest{Query: "lunch", ConversationID: "nope"}, 0, chatcore.ENotFound},
		{"no words", a.ID, chatcore.SearchRequest{Query: " ?! "}, 0, ""},
		{"one-letter last word is whole", a.ID, chatcore.SearchRequest{Query: "l"}, 0, ""},
		{"too long", a.ID, chatcore.SearchRequest{Query: strings.Repeat("x", chatcore.MaxSearchQueryBytes+1)}, 0, chatcore.EInvalid},
		{"not utf-8", a.ID, chatcore.SearchRequest{Query: "lunch\xff"}, 0, chatcore.EInvalid},
		{"negative limit", a.ID, chatcore.SearchRequest{Query: "lunch", Limit: -1}, 0, chatcore.EInvalid},
		{"limit past the cap", a.ID, chatcore.SearchRequest{Query: "lunch", Limit: 1000}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := h.svc.Search.Search(ctx, tc.caller, tc.req)
			wantCode(t, err, tc.code)
			if err == nil && len(hits) != tc.n {
				t.Errorf("got %d hits, want %d", len(hits), tc.n)
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		terms      []string
		prefix     bool
		want       string
	}{
		{"whole body", "Hello, World!", []string{"world"}, false, "Hello, \x02World\x03!"},
		{"prefix", "lunchbox and lunch", []string{"lunch"}, true, "\x02lunchbox\x03 and \x02lunch\x03"},
		{"no prefix", "lunchbox and lunch", []string{"lunch"}, false, "lunchbox and \x02lunch\x03"},
		{"window", "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen target seventeen",
			[]string{"target"}, false, "…seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen \x02target\x03 seventeen"},
		{"window at start", "target one two three four five six seven eight nine ten eleven twelve thirteen",
			[]string{"target"}, false, "\x02target\x03 one two three four five six seven eight nine ten eleven…"},
		{"markers in the body are dropped", "a\x02b\x03c word", []string{"word"}, false, "abc \x02word\x03"},
		{"no match", "nothing here", []string{"else"}, false, "nothing here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := chatcore.Snippet(tc.body, tc.terms, tc.prefix); got != tc.want {
				t.Errorf("Snippet(%q) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

func TestSearchTerms(t *testing.T) {
	got := chatcore.SearchTerms(`"Hello" hello, wörld's 42 a-b c d e f g h i j`)
	want := []string{"hello", "wörld", "s", "42", "a", "b", "c", "d"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}
