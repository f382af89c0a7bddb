package chatcore

import (
	"context"
	"time"
)

// GroupAddPolicy is who may add a user to groups (a safety setting).
type GroupAddPolicy string

// Group-add policies. A user the policy holder blocks can never add them,
// whatever the policy.
const (
	// GroupAddEveryone lets anyone add the user (the default).
	GroupAddEveryone GroupAddPolicy = "everyone"
	// GroupAddContacts lets only people the user has a direct
	// conversation with add them.
	GroupAddContacts GroupAddPolicy = "contacts"
	// GroupAddNobody refuses every addition: the user joins groups only by
	// creating them.
	GroupAddNobody GroupAddPolicy = "nobody"
)

// valid reports whether p is one of the policies.
func (p GroupAddPolicy) valid() bool {
	return p == GroupAddEveryone || p == GroupAddContacts || p == GroupAddNobody
}

// MaxBlocksPerUser is the most users one account may block; GET
// /v1/me/blocks returns them all in one page.
const MaxBlocksPerUser = 1000

// Block is one user the caller blocks.
type Block struct {
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
}

// SafetySettings are a user's own safety choices.
type SafetySettings struct {
	// GroupAdd is who may add the user to groups.
	GroupAdd GroupAddPolicy `json:"group_add"`
}

// BlockRelations are the blocks around one user: whom they block and who
// blocks them.
type BlockRelations struct {
	Blocks    map[string]bool // user ids this user blocks
	BlockedBy map[string]bool // user ids that block this user
}

// BlockStore persists blocks and safety settings.
type BlockStore interface {
	// PutBlock records that blockerID blocks blockedID; created is false
	// when it did already. ETooLarge when blockerID already blocks max
	// users; ENotFound when either user does not exist.
	PutBlock(ctx context.Context, blockerID, blockedID string, now time.Time, max int) (created bool, err error)
	// DeleteBlock removes a block; false when there was none.
	DeleteBlock(ctx context.Context, blockerID, blockedID string) (bool, error)
	// Blocks lists whom blockerID blocks, newest first, at most limit.
	Blocks(ctx context.Context, blockerID string, limit int) ([]Block, error)
	// BlockRelations returns whom userID blocks and who blocks userID, in
	// one query.
	BlockRelations(ctx context.Context, userID string) (BlockRelations, error)
	// GroupAddPolicies returns the policy of each given user; users who
	// never chose one are GroupAddEveryone.
	GroupAddPolicies(ctx context.Context, userIDs []string) (map[string]GroupAddPolicy, error)
	// SetGroupAddPolicy stores a user's policy.
	SetGroupAddPolicy(ctx context.Context, userID string, p GroupAddPolicy) error
	// MembersBlocking returns the members of a conversation (as
	// MemberIDs, in join order; empty when it does not exist) and which of
	// them block userID, in one query: the send path's membership check.
	MembersBlocking(ctx context.Context, convID, userID string) (members []string, blockers map[string]bool, err error)
	// DirectPeers returns those of among who share a direct conversation
	// with userID.
	DirectPeers(ctx context.Context, userID string, among []string) ([]string, error)
	// RestampSharedReceipts gives the receipts of a and b, in every
	// conversation both are members of, new change ids, and returns them:
	// when a block between them ends, devices that synced past the
	// receipts the block hid get them again.
	RestampSharedReceipts(ctx context.Context, a, b string) ([]Receipt, error)
}
