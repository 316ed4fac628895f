package spec

import "testing"

func TestCheckUsername(t *testing.T) {
	tests := []struct {
		in   string
		want string // the error, "" when valid
	}{
		{"alice@example.com", ""},
		{"Alice.Smith+ops@Sub.Example.CO.UK", ""},
		{"dmitri@пример.рф", ""},
		{"a@b.c", ""},
		{"alice", `"alice" is not an e-mail address: no "@"`},
		{"", `"" is not an e-mail address: no "@"`},
		{"@example.com", `"@example.com" is not an e-mail address: nothing before "@"`},
		{"alice@", `"alice@" is not an e-mail address: no domain after "@"`},
		{"alice@localhost", `"alice@localhost" is not an e-mail address: domain "localhost" has no dot`},
		{"a@b@example.com", `"a@b@example.com" is not an e-mail address: more than one "@"`},
		{"alice@.example.com", `"alice@.example.com" is not an e-mail address: domain ".example.com" has an empty label`},
		{"alice@example.com.", `"alice@example.com." is not an e-mail address: domain "example.com." has an empty label`},
		{"alice@example..com", `"alice@example..com" is not an e-mail address: domain "example..com" has an empty label`},
		{"alice @example.com", `"alice @example.com" is not an e-mail address: it contains a space`},
		{"alice@example.com\u00a0", `"alice@example.com\u00a0" is not an e-mail address: it contains a space (U+00A0)`},
		{"alice\t@example.com", `"alice\t@example.com" is not an e-mail address: it contains control character U+0009`},
		{"alice\x1b[31m@example.com", `"alice\x1b[31m@example.com" is not an e-mail address: it contains control character U+001B`},
		{"alice\u200b@example.com", `"alice\u200b@example.com" is not an e-mail address: it contains invisible character U+200B`},
		{"moc.elpmaxe@\u202eecila", `"moc.elpmaxe@\u202eecila" is not an e-mail address: it contains invisible character U+202E`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ""
			if err := CheckUsername(tt.in); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckUsername(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFoldUsername(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"alice@example.com", "Alice@EXAMPLE.com", true},
		{"ÉLODIE@example.com", "élodie@example.com", true},
		{"alice@example.com", "alice@example.org", false},
		{"alice+a@example.com", "alice@example.com", false},
	} {
		if got := FoldUsername(tt.a) == FoldUsername(tt.b); got != tt.same {
			t.Errorf("FoldUsername(%q) == FoldUsername(%q): %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}
