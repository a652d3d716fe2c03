package reputation

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRejections drives every rejection reason through Store.Add and checks
// that it is reported, counted once, and writes nothing.
func TestRejections(t *testing.T) {
	w, q, x := identN(t, 1), identN(t, 2), identN(t, 3)
	base := spec{worker: w, requester: q}
	with := func(edit func(*spec)) spec { sp := base; edit(&sp); return sp }
	day := 24 * time.Hour

	cases := []struct {
		name   string
		rules  Rules
		before func(t *testing.T) [][]byte // stored first, must be accepted
		raw    func(t *testing.T) []byte
		want   Reason
	}{
		{name: "decode garbage", raw: func(*testing.T) []byte { return []byte{1, 2, 3} }, want: ReasonDecode},
		{name: "decode empty", raw: func(*testing.T) []byte { return nil }, want: ReasonDecode},
		{name: "signature issuer", want: ReasonSignature, raw: func(t *testing.T) []byte {
			a := build(t, base, nil)
			a.Sig[5] ^= 1
			return mustMarshal(t, a)
		}},
		{name: "signature receipt", want: ReasonSignature, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, base, func(a *Attestation) { a.Receipt.Sig[5] ^= 1 }))
		}},
		{name: "signature wrong issuer key", want: ReasonSignature, raw: func(t *testing.T) []byte {
			return mustMarshal(t, forceSign(t, x.priv, build(t, base, nil)))
		}},
		{name: "self", want: ReasonSelf, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, spec{worker: w, requester: w}, nil))
		}},
		{name: "mismatch worker", want: ReasonMismatch, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, base, func(a *Attestation) { a.Subject = x.id }))
		}},
		{name: "mismatch requester", want: ReasonMismatch, raw: func(t *testing.T) []byte {
			a := build(t, base, nil)
			a.Issuer = x.id
			return mustMarshal(t, forceSign(t, x.priv, a))
		}},
		{name: "mismatch task", want: ReasonMismatch, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, base, func(a *Attestation) { a.TaskHash[0] ^= 1 }))
		}},
		{name: "mismatch outcome", want: ReasonMismatch, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, base, func(a *Attestation) { a.Outcome = Failure }))
		}},
		{name: "mismatch cost", want: ReasonMismatch, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, base, func(a *Attestation) { a.Cost = 99 }))
		}},
		{name: "expired past expiry", want: ReasonExpired, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, with(func(s *spec) { s.issuedAt, s.lifetime = t0.Add(-8*day), 7*day }), nil))
		}},
		{name: "expired too old", want: ReasonExpired, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, with(func(s *spec) { s.issuedAt, s.lifetime = t0.Add(-31*day), 60*day }), nil))
		}},
		{name: "future issued", want: ReasonFuture, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, with(func(s *spec) { s.issuedAt = t0.Add(6 * time.Minute) }), nil))
		}},
		{name: "future receipt", want: ReasonFuture, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, base, func(a *Attestation) {
				a.Receipt.EndedAt = a.IssuedAt.Add(6 * time.Minute)
				a.Receipt = forceSignReceipt(t, w.priv, a.Receipt)
			}))
		}},
		{name: "lifetime too long", want: ReasonLifetime, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, with(func(s *spec) { s.lifetime = 91 * day }), nil))
		}},
		{name: "lifetime negative", want: ReasonLifetime, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, with(func(s *spec) {
				s.issuedAt, s.lifetime = t0.Add(time.Minute), -30*time.Second
			}), nil))
		}},
		{name: "sequence zero", want: ReasonSequence, raw: func(t *testing.T) []byte {
			return mustMarshal(t, build(t, base, func(a *Attestation) { a.Seq = 0 }))
		}},
		{name: "sequence equal", want: ReasonSequence,
			before: func(t *testing.T) [][]byte {
				return [][]byte{mustMarshal(t, build(t, with(func(s *spec) { s.seq, s.task = 5, "a" }), nil))}
			},
			raw: func(t *testing.T) []byte {
				return mustMarshal(t, build(t, with(func(s *spec) { s.seq, s.task = 5, "b" }), nil))
			}},
		{name: "sequence lower", want: ReasonSequence,
			before: func(t *testing.T) [][]byte {
				return [][]byte{mustMarshal(t, build(t, with(func(s *spec) { s.seq, s.task = 5, "a" }), nil))}
			},
			raw: func(t *testing.T) []byte {
				return mustMarshal(t, build(t, with(func(s *spec) { s.seq, s.task = 3, "b" }), nil))
			}},
		{name: "duplicate", want: ReasonDuplicate,
			before: func(t *testing.T) [][]byte { return [][]byte{mustMarshal(t, build(t, base, nil))} },
			raw:    func(t *testing.T) []byte { return mustMarshal(t, build(t, base, nil)) }},
		{name: "task replay", want: ReasonTaskReplay,
			before: func(t *testing.T) [][]byte { return [][]byte{mustMarshal(t, build(t, base, nil))} },
			raw: func(t *testing.T) []byte {
				return mustMarshal(t, build(t, with(func(s *spec) { s.seq, s.issuedAt = 2, t0 }), nil))
			}},
		{name: "rate", want: ReasonRate, rules: Rules{IssuerRate: 2},
			before: func(t *testing.T) [][]byte {
				return [][]byte{
					mustMarshal(t, build(t, spec{worker: identN(t, 10), requester: q}, nil)),
					mustMarshal(t, build(t, spec{worker: identN(t, 11), requester: q}, nil)),
				}
			},
			raw: func(t *testing.T) []byte { return mustMarshal(t, build(t, base, nil)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := tc.rules
			rules.Now = func() time.Time { return t0 }
			s, db := newStore(t, rules)
			if tc.before != nil {
				for _, raw := range tc.before(t) {
					_, err := s.Add(raw)
					require.NoError(t, err)
				}
			}
			keys, stats, count := dumpKeys(t, db), s.Stats(), s.Count()

			_, err := s.Add(tc.raw(t))
			reason, ok := ReasonOf(err)
			require.True(t, ok, "want a RejectError, got %v", err)
			require.Equal(t, tc.want, reason, "%v", err)
			require.ErrorContains(t, err, "reputation: attestation rejected ("+string(tc.want)+")")
			require.Equal(t, tc.want == ReasonDuplicate, errors.Is(err, ErrDuplicate))
			var re *RejectError
			require.ErrorAs(t, err, &re)
			require.Equal(t, tc.want == ReasonDuplicate, re.Ignore())

			stats[tc.want]++
			require.Equal(t, stats, s.Stats(), "counted exactly once")
			require.Equal(t, keys, dumpKeys(t, db), "nothing written")
			require.Equal(t, count, s.Count())
		})
	}
}

// TestRulesCheck runs the stateless checks without a store.
func TestRulesCheck(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	raw := mustMarshal(t, build(t, spec{worker: w, requester: q}, nil))
	a, err := fixedRules().Check(raw)
	require.NoError(t, err)
	require.Equal(t, w.id, a.Subject)

	later := Rules{Now: func() time.Time { return t0.Add(8 * 24 * time.Hour) }}
	_, err = later.Check(raw)
	reason, _ := ReasonOf(err)
	require.Equal(t, ReasonExpired, reason)

	_, err = Rules{}.Check([]byte("x"))
	reason, _ = ReasonOf(err)
	require.Equal(t, ReasonDecode, reason)
	require.ErrorIs(t, err, ErrDecode)
}
