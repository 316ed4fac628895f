package spec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// FoldUsername is the form in which usernames (e-mail addresses) are
// compared: two usernames name the same user when their folds are equal.
func FoldUsername(username string) string {
	return strings.ToLower(username)
}

// CheckUsername reports whether username looks like an e-mail address, as
// the spec requires of a user's username: exactly one '@', something before
// it, and after it a domain of at least two non-empty labels separated by
// dots; no spaces, control or invisible formatting characters anywhere. It
// does not check that the address exists.
func CheckUsername(username string) error {
	if why := usernameProblem(username); why != "" {
		return errors.New(strconv.Quote(truncate(username)) + " is not an e-mail address: " + why)
	}
	return nil
}

// usernameProblem says why username is not an e-mail address, or "".
func usernameProblem(username string) string {
	for _, r := range username {
		switch {
		case r > ' ' && r < 0x7f:
			// Printable ASCII other than the space: none of the below.
		case unicode.IsControl(r):
			return fmt.Sprintf("it contains control character %U", r)
		case r == ' ':
			return "it contains a space"
		case unicode.IsSpace(r):
			return fmt.Sprintf("it contains a space (%U)", r)
		case unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("it contains invisible character %U", r)
		}
	}
	local, domain, ok := strings.Cut(username, "@")
	switch {
	case !ok:
		return `no "@"`
	case strings.Contains(domain, "@"):
		return `more than one "@"`
	case local == "":
		return `nothing before "@"`
	case domain == "":
		return `no domain after "@"`
	case !strings.Contains(domain, "."):
		return "domain " + strconv.Quote(truncate(domain)) + " has no dot"
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "domain " + strconv.Quote(truncate(domain)) + " has an empty label"
	}
	return ""
}
