package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// TestGroupCommitCrash kills a serve node with SIGKILL while twelve senders
// in two conversations keep its group commit busy, then starts a new node
// on the same Postgres: every message a sender was acknowledged is stored
// with the seq it was acknowledged with, none is stored twice (retries of
// the unacknowledged ones find their original if its batch committed), and
// each conversation's seqs run 1..last without a gap.
func TestGroupCommitCrash(t *testing.T) {
	env := []string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(t),
		"PARLEY_REDIS_URL=" + testenv.Redis(t),
		"PARLEY_JWT_SECRET=" + strings.Repeat("crash-", 6),
		"PARLEY_AUTH_PER_MINUTE=-1",
		"PARLEY_LOG_LEVEL=warn",
		"PARLEY_MESSAGES_PER_SECOND=-1",
	}
	node := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	const senders = 12
	users := make([]*client, senders)
	for i := range users {
		users[i] = register(t, node.URL, fmt.Sprintf("crash%d", i))
	}
	convs := make([]string, 2)
	for ci := range convs {
		var ids []string
		for i := ci + 2; i < senders; i += 2 {
			ids = append(ids, users[i].User.ID)
		}
		var out struct {
			Conversation struct {
				ID string `json:"id"`
			} `json:"conversation"`
		}
		users[ci].do("POST", "/v1/conversations", map[string]any{"member_ids": ids, "title": fmt.Sprint("crash ", ci)},
			http.StatusCreated, &out)
		convs[ci] = out.Conversation.ID
	}

	type ack struct {
		conv, clientID string
		seq            int64
	}
	var mu sync.Mutex
	var acked []ack
	unacked := map[int][]string{} // sender → client ids sent without an ack
	httpc := &http.Client{Timeout: 10 * time.Second}
	send := func(base string, u *client, conv, clientID string) (int64, bool) {
		body, _ := json.Marshal(map[string]any{"client_id": clientID, "body": "crash test " + clientID})
		req, _ := http.NewRequest("POST", base+"/v1/conversations/"+conv+"/messages", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+u.token)
		resp, err := httpc.Do(req)
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var out struct {
			Message struct {
				Seq int64 `json:"seq"`
			} `json:"message"`
		}
		if resp.StatusCode/100 != 2 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Message.Seq == 0 {
			return 0, false
		}
		return out.Message.Seq, true
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i, u := range users {
		conv := convs[i%2]
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("s%d-%d", i, n)
				seq, ok := send(node.URL, u, conv, id)
				mu.Lock()
				if ok {
					acked = append(acked, ack{conv, id, seq})
				} else {
					unacked[i] = append(unacked[i], id)
				}
				mu.Unlock()
				if !ok {
					return // the node is gone
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	node.Kill()
	close(stop)
	wg.Wait()
	if len(acked) < senders {
		t.Fatalf("only %d messages acknowledged before the crash: the test did not load the node", len(acked))
	}

	node2 := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	// The senders retry what was not acknowledged, as clients do.
	for i, ids := range unacked {
		for _, id := range ids {
			seq, ok := send(node2.URL, users[i], convs[i%2], id)
			if !ok {
				t.Fatalf("retry of %s after the restart failed", id)
			}
			acked = append(acked, ack{convs[i%2], id, seq})
		}
	}
	for ci, conv := range convs {
		stored := map[int64]string{}
		byClient := map[string]int64{}
		system := 0
		for after := int64(0); ; {
			var page struct {
				Messages []struct {
					Seq      int64  `json:"seq"`
					ClientID string `json:"client_id"`
				} `json:"messages"`
			}
			users[ci].on(node2.URL).do("GET", fmt.Sprintf("/v1/conversations/%s/messages?after=%d&limit=100", conv, after), nil, http.StatusOK, &page)
			if len(page.Messages) == 0 {
				break
			}
			for _, m := range page.Messages {
				if m.ClientID == "" { // the conversation_created system message
					system++
					stored[m.Seq], after = "", m.Seq
					continue
				}
				if prev, dup := byClient[m.ClientID]; dup {
					t.Errorf("conversation %d: client id %s stored twice (seq %d and %d)", ci, m.ClientID, prev, m.Seq)
				}
				byClient[m.ClientID] = m.Seq
				stored[m.Seq] = m.ClientID
				after = m.Seq
			}
		}
		for seq := int64(1); seq <= int64(len(stored)); seq++ {
			if _, ok := stored[seq]; !ok {
				t.Errorf("conversation %d: seq %d missing of %d stored: seqs must be gapless", ci, seq, len(stored))
			}
		}
		n := 0
		for _, a := range acked {
			if a.conv != conv {
				continue
			}
			n++
			if got, ok := byClient[a.clientID]; !ok || got != a.seq {
				t.Errorf("conversation %d: %s acknowledged with seq %d, stored at seq %d (present %v)", ci, a.clientID, a.seq, got, ok)
			}
		}
		if n != len(stored)-system {
			t.Errorf("conversation %d: %d messages stored, %d acknowledged (with retries)", ci, len(stored), n)
		}
	}
	t.Logf("%d messages acknowledged (with retries), %d unacknowledged at the crash", len(acked), len(unacked))
}
