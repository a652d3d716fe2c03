package addressing

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every accepted input is
// canonicalised to a string that parses back to the same address, and that
// accepted inputs have one of the documented shapes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"3f2a.91c0.7d14", "3F2A91C07D14", "", "zzzz", "....", "3f2a.91c0.7d14:80", "ffff.ffff.ffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if !a.IsZero() {
				t.Fatalf("Parse(%q) failed but returned %v", s, a)
			}
			return
		}
		if len(s) != 12 && len(s) != 14 {
			t.Fatalf("Parse accepted %q of length %d", s, len(s))
		}
		canon := a.String()
		if !strings.EqualFold(strings.ReplaceAll(s, ".", ""), a.Hex()) {
			t.Fatalf("Parse(%q) = %s does not keep the digits", s, canon)
		}
		b, err := Parse(canon)
		if err != nil || b != a {
			t.Fatalf("round trip of %q: %v %v", canon, b, err)
		}
	})
}

// FuzzParseSocket checks ParseSocket never panics and round-trips.
func FuzzParseSocket(f *testing.F) {
	for _, s := range []string{"3f2a.91c0.7d14:1001", "3f2a91c07d14:0", ":", "a:b", "3f2a.91c0.7d14:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sa, err := ParseSocket(s)
		if err != nil {
			return
		}
		back, err := ParseSocket(sa.String())
		if err != nil || back != sa {
			t.Fatalf("round trip of %q via %q: %v %v", s, sa.String(), back, err)
		}
	})
}
