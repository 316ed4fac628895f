package sync

import (
	"time"

	"github.com/tokensync/tokensync/astroapi"
)

// Hygiene is what the API says of a subject besides its roles, as policies
// and the access report read it. A time the API does not give is zero.
type Hygiene struct {
	// ExpiresAt is when a token expires (its endAt); zero when it never
	// does, and for users and teams.
	ExpiresAt time.Time
	// LastUsedAt is when a token was last used; zero when never, or not
	// known.
	LastUsedAt time.Time
	// LastRotatedAt is when a token was last rotated; zero when never.
	LastRotatedAt time.Time
	// CreatedAt is when the subject was created; zero when not known.
	CreatedAt time.Time
	// IdpManaged says a team gets its members from an identity provider.
	IdpManaged bool
}

// tokenHygiene is the hygiene of token t.
func tokenHygiene(t astroapi.Token) Hygiene {
	return Hygiene{
		ExpiresAt:     deref(t.EndAt),
		LastUsedAt:    deref(t.LastUsedAt),
		LastRotatedAt: deref(t.LastRotatedAt),
		CreatedAt:     t.CreatedAt,
	}
}

// userHygiene is the hygiene of user u.
func userHygiene(u astroapi.User) Hygiene { return Hygiene{CreatedAt: u.CreatedAt} }

// teamHygiene is the hygiene of team t.
func teamHygiene(t astroapi.Team) Hygiene {
	return Hygiene{CreatedAt: t.CreatedAt, IdpManaged: t.IsIdpManaged}
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
