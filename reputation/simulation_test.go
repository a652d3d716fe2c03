package reputation

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/reputation/score"
)

// The population and the activity of TestSybilSimulation.
const (
	simHonest        = 700 // honest identities; index 0 is the observer H
	simSybils        = 300 // the collective: 30 % of the population
	simRounds        = 2   // rounds of honest activity, one day apart
	simTasksPerRound = 5   // tasks each honest identity requests per round: 10 in all
	simSybilAttests  = 30  // attestations each Sybil issues about other Sybils
	simInfiltrators  = 30  // Sybils (10 %) that did one genuine task for an honest requester
	simAnchors       = 5   // honest peers H trusts, among those it worked with
	simChoices       = 10_000
	simFlood         = 200 // attestations one issuer sends in one rate window
	simLifetime      = 30 * 24 * time.Hour
)

// simStart is the beginning of the simulated history, aligned to the hour
// so that every phase below has rate windows of its own.
var simStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// simClock is the store's fake clock, advanced phase by phase.
type simClock struct{ ns atomic.Int64 }

func (c *simClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *simClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// simTask is one task of the plan: requester asked worker, with outcome,
// and attests it at issuedAt.
type simTask struct {
	requester, worker int
	outcome           Outcome
	cost              uint64
	issuedAt          time.Time
	label             string // unique; names the task and its result
}

// sim is the simulated world: identities, a real Store and the observer's
// score Engine, fed with every attestation the store accepts.
type sim struct {
	t       *testing.T
	ids     []ident
	clock   *simClock
	store   *Store
	engine  *score.Engine
	fed     int       // attestations fed to the engine
	anchors []peer.ID // H's trusted peers
}

// simSeed is the ChaCha8 seed of one of the simulation's random streams.
func simSeed(stream string) [32]byte { return sha256.Sum256([]byte("pilot/polo/simulation/" + stream)) }

// simTaskHash is the task hash of a plan label.
func simTaskHash(label string) [32]byte { return sha256.Sum256([]byte("sim/task/" + label)) }

// receipt returns the worker's genuine, validly signed receipt of a task.
func (s *sim) receipt(worker, requester int, label string, outcome Outcome, cost uint64, ended time.Time) (Receipt, error) {
	return SignReceipt(s.ids[worker].priv, Receipt{
		Worker:     s.ids[worker].id,
		Requester:  s.ids[requester].id,
		TaskHash:   simTaskHash(label),
		ResultHash: sha256.Sum256([]byte("sim/result/" + label)),
		Outcome:    outcome,
		Cost:       cost,
		EndedAt:    ended,
	})
}

// attest is the protocol for one task: the worker signs the receipt, the
// requester signs an attestation with the pair's next sequence number
// (Store.LastSeq + 1), and the store validates and keeps it. Honest
// requesters sign with SignAttestation, which first verifies the receipt;
// Sybils (which need not use this library) sign the same bytes without that
// check, which saves a signature verification per collective attestation.
func (s *sim) attest(tk simTask) (Attestation, error) {
	r, err := s.receipt(tk.worker, tk.requester, tk.label, tk.outcome, tk.cost, tk.issuedAt.Add(-time.Second))
	if err != nil {
		return Attestation{}, err
	}
	q := s.ids[tk.requester]
	last, err := s.store.LastSeq(q.id, r.Worker)
	if err != nil {
		return Attestation{}, err
	}
	a := NewAttestation(r, tk.issuedAt, tk.issuedAt.Add(simLifetime), last+1)
	if tk.requester < simHonest {
		a, err = SignAttestation(q.priv, a)
	} else {
		a, err = signUnchecked(q.priv, a)
	}
	if err != nil {
		return Attestation{}, err
	}
	raw, err := a.Marshal()
	if err != nil {
		return Attestation{}, err
	}
	return s.store.Add(raw)
}

// signUnchecked signs a as SignAttestation would, without its checks.
func signUnchecked(priv crypto.PrivKey, a Attestation) (Attestation, error) {
	body, err := a.body()
	if err != nil {
		return Attestation{}, err
	}
	a.Sig, err = priv.Sign(signedMessage(attestationDomain, body))
	return a, err
}

// feed gives the engine the evidence of an accepted attestation.
func (s *sim) feed(a Attestation) {
	s.engine.Add(score.Evidence{
		Issuer: a.Issuer, Subject: a.Subject, Success: a.Outcome == Success,
		Cost: a.Cost, IssuedAt: a.IssuedAt,
	})
	s.fed++
}

// phase sets the clock to at and runs the tasks through the store, spread
// over GOMAXPROCS goroutines by requester (so each pair's sequence numbers
// are issued by one goroutine, in plan order). Every attestation must be
// accepted; the engine is then fed in plan order, so the run is
// reproducible bit for bit.
func (s *sim) phase(at time.Time, tasks []simTask) {
	s.t.Helper()
	s.clock.set(at)
	byRequester := map[int][]int{}
	var requesters []int
	for i, tk := range tasks {
		if _, ok := byRequester[tk.requester]; !ok {
			requesters = append(requesters, tk.requester)
		}
		byRequester[tk.requester] = append(byRequester[tk.requester], i)
	}
	out := make([]Attestation, len(tasks))
	errs := make([]error, len(tasks))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(requesters); k += workers {
				for _, i := range byRequester[requesters[k]] {
					out[i], errs[i] = s.attest(tasks[i])
				}
			}
		})
	}
	wg.Wait()
	require.NoError(s.t, errors.Join(errs...))
	for _, a := range out {
		s.feed(a)
	}
}

// expectReject adds raw and requires that the store refuses it for want,
// counts exactly that reason once, and stores nothing.
func (s *sim) expectReject(name string, raw []byte, want Reason) {
	s.t.Helper()
	stats, count := s.store.Stats(), s.store.Count()
	_, err := s.store.Add(raw)
	got, ok := ReasonOf(err)
	require.True(s.t, ok, "%s: want a rejection (%s), got %v", name, want, err)
	require.Equal(s.t, want, got, "%s: %v", name, err)
	var re *RejectError
	require.ErrorAs(s.t, err, &re)
	require.Equal(s.t, want == ReasonDuplicate, re.Ignore(), name)
	require.Equal(s.t, want == ReasonDuplicate, errors.Is(err, ErrDuplicate), name)
	stats[want]++
	require.Equal(s.t, stats, s.store.Stats(), "%s: counted once, under %s", name, want)
	require.Equal(s.t, count, s.store.Count(), "%s: nothing stored", name)
	s.t.Logf("  %-44s → %s", name, got)
}

// TestSybilSimulation runs 1,000 identities with real keys through a real
// Store and scores them from an honest observer's point of view: 700 honest
// peers doing tasks for each other, and a collective of 300 Sybils (30 %)
// vouching for each other, 30 of which also did one genuine task for an
// honest requester. It then tries slander, replays and forgeries against an
// honest worker. No network; reproducible (seeded ChaCha8 for keys and
// plan, deterministic Ed25519 signatures).
func TestSybilSimulation(t *testing.T) {
	began := time.Now()
	const n = simHonest + simSybils
	keySrc := rand.NewChaCha8(simSeed("keys"))
	rng := rand.New(rand.NewChaCha8(simSeed("plan")))

	s := &sim{t: t, clock: &simClock{}, engine: score.New(score.Params{})}
	s.ids = make([]ident, n)
	index := make(map[peer.ID]int, n)
	for i := range s.ids {
		priv, _, err := crypto.GenerateEd25519Key(keySrc)
		require.NoError(t, err)
		id, err := peer.IDFromPrivateKey(priv)
		require.NoError(t, err)
		s.ids[i] = ident{priv: priv, id: id}
		index[id] = i
	}
	require.Len(t, index, n, "distinct identities")
	isSybil := func(i int) bool { return i >= simHonest }

	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	// Default rules (60 attestations per issuer per hour, 5 min skew,
	// 30 days max age) on a fake clock: every phase has its own hour, and
	// no issuer exceeds 60 attestations in one.
	s.store, err = Open(db, Rules{Now: s.clock.now})
	require.NoError(t, err)

	// Hidden quality of the honest peers: the probability a task succeeds.
	quality := make([]float64, simHonest)
	for i := range quality {
		quality[i] = 0.5 + 0.5*rng.Float64()
	}

	// Honest rounds, one day apart: each honest peer requests
	// simTasksPerRound tasks from random honest workers within one hour.
	for round := range simRounds {
		base := simStart.Add(time.Duration(round) * 24 * time.Hour)
		var tasks []simTask
		for q := range simHonest {
			for k := range simTasksPerRound {
				w := rng.IntN(simHonest - 1)
				if w >= q {
					w++
				}
				outcome := Failure
				if rng.Float64() < quality[w] {
					outcome = Success
				}
				tasks = append(tasks, simTask{
					requester: q, worker: w, outcome: outcome, cost: 100 + rng.Uint64N(5000),
					issuedAt: base.Add(time.Duration(k)*5*time.Minute + time.Duration(rng.IntN(240))*time.Second),
					label:    fmt.Sprintf("honest/%d/%d/%d", round, q, k),
				})
			}
		}
		s.phase(base.Add(time.Hour), tasks)
	}

	// The observer H and its anchors: the first simAnchors distinct honest
	// peers H asked for work.
	const h = 0
	var anchors []peer.ID
	byH, err := s.store.ByIssuer(s.ids[h].id) // oldest first
	require.NoError(t, err)
	for _, a := range byH {
		if len(anchors) < simAnchors && !slices.Contains(anchors, a.Subject) {
			anchors = append(anchors, a.Subject)
		}
	}
	require.Len(t, anchors, simAnchors)
	s.anchors = anchors
	s.engine.SetAnchors(s.ids[h].id, anchors)

	// Infiltration: 10 % of the Sybils each did one genuine, successful task
	// for a random honest requester (not H), who attested it.
	day := simStart.Add(simRounds * 24 * time.Hour)
	var infil []simTask
	for k, y := range rng.Perm(simSybils)[:simInfiltrators] {
		infil = append(infil, simTask{
			requester: 1 + rng.IntN(simHonest-1), worker: simHonest + y, outcome: Success,
			cost: 100 + rng.Uint64N(5000), issuedAt: day.Add(time.Duration(k) * time.Minute),
			label: fmt.Sprintf("infiltration/%d", y),
		})
	}
	s.phase(day.Add(time.Hour), infil)

	// The collective: every Sybil attests simSybilAttests successes about
	// random other Sybils, with real receipts (it holds all their keys),
	// within the next hour (30 per issuer: under the rate limit).
	base := day.Add(time.Hour)
	var collective []simTask
	for y := range simSybils {
		for k := range simSybilAttests {
			z := rng.IntN(simSybils - 1)
			if z >= y {
				z++
			}
			collective = append(collective, simTask{
				requester: simHonest + y, worker: simHonest + z, outcome: Success,
				cost: 100 + rng.Uint64N(5000), issuedAt: base.Add(time.Duration(k)*time.Minute + time.Duration(rng.IntN(50))*time.Second),
				label: fmt.Sprintf("collective/%d/%d", y, k),
			})
		}
	}
	s.phase(base.Add(time.Hour), collective)

	total := simRounds*simHonest*simTasksPerRound + simInfiltrators + simSybils*simSybilAttests
	require.Equal(t, total, s.store.Count())
	require.Equal(t, map[Reason]uint64{Accepted: uint64(total)}, s.store.Stats(), "nothing refused")
	require.Equal(t, total, s.fed)

	// H's view, half an hour after the last attestation.
	now := day.Add(3*time.Hour + 30*time.Minute)
	s.clock.set(now)
	res := s.engine.Compute(now)
	require.True(t, res.Converged, "residual %g after %d iterations", res.Residual, res.Iterations)
	require.Equal(t, n, res.Peers)

	var honestPolo, sybilPolo []int
	var qs, ps []float64 // quality and Polo of honest non-anchor peers
	collectiveTrust, sybilsAtZero, honestAtZero := 0.0, 0, 0
	for i := range n {
		p := res.Polo[s.ids[i].id]
		switch {
		case i == h:
		case isSybil(i):
			sybilPolo = append(sybilPolo, p)
			collectiveTrust += res.Trust[s.ids[i].id]
			if p == 0 {
				sybilsAtZero++
			}
		default:
			honestPolo = append(honestPolo, p)
			if p == 0 {
				honestAtZero++
			}
			if !slices.Contains(s.anchors, s.ids[i].id) {
				qs, ps = append(qs, quality[i]), append(ps, float64(p))
			}
		}
	}
	hMed, yMed := median(honestPolo), median(sybilPolo)
	yP90, yMax := quantile(sybilPolo, 0.9), slices.Max(sybilPolo)
	share := collectiveTrust                                      // t sums to 1
	shareOthers := collectiveTrust / (1 - res.Trust[s.ids[h].id]) // excluding H's own mass

	// Partner choice (EigenTrust's evaluation: the share of transactions
	// that land on malicious peers, against their share of the population).
	// Exploration picks among the Polo-0 candidates, so it reaches Sybils
	// only if some of them are at 0.
	others := make([]peer.ID, 0, n-1)
	for i := range n {
		if i != h {
			others = append(others, s.ids[i].id)
		}
	}
	choiceRng := rand.New(rand.NewChaCha8(simSeed("choose")))
	polo := func(p peer.ID) int { return res.Polo[p] }
	onSybils := 0
	for range simChoices {
		if isSybil(index[score.Choose(choiceRng, others, polo, score.DefaultExplore)]) {
			onSybils++
		}
	}
	chooseShare := float64(onSybils) / simChoices
	randomShare := float64(simSybils) / float64(len(others))

	t.Logf("Sybil simulation: %d honest + %d Sybils, %d attestations (%d honest, %d infiltration, %d collective); %d iterations",
		simHonest, simSybils, total, simRounds*simHonest*simTasksPerRound, simInfiltrators, simSybils*simSybilAttests, res.Iterations)
	t.Logf("  honest median Polo (%d peers, H excluded)   %6.1f; %d at Polo 0", len(honestPolo), hMed, honestAtZero)
	t.Logf("  Sybil median / p90 / max Polo                 %6.1f / %d / %d", yMed, yP90, yMax)
	t.Logf("  Sybils at Polo 0                              %6.1f %%", 100*float64(sybilsAtZero)/simSybils)
	t.Logf("  collective trust share                        %6.2f %% of all (%.2f %% excluding H's own), population share 30 %%", 100*share, 100*shareOthers)
	t.Logf("  choices on Sybils (Choose, explore 0.1)       %6.2f %% of %d, random choice %.2f %%", 100*chooseShare, simChoices, 100*randomShare)
	t.Logf("  quality vs Polo, honest non-anchors (n=%d)   Spearman %.3f, Pearson %.3f", len(qs), spearman(qs, ps), pearson(qs, ps))

	require.Less(t, yMed, hMed, "Sybil median below honest median")
	require.Less(t, share, 0.10, "collective's trust share well below its 30 %% population share")
	require.Less(t, chooseShare, 0.10, "choices landing on Sybils far below 30 %%")
	require.Greater(t, spearman(qs, ps), 0.0, "better workers score higher")

	s.attacks(index, res, now)
	t.Logf("simulation took %s", time.Since(began).Round(time.Millisecond))
}

// attacks tries slander, replays and forgeries against an honest victim;
// each must be refused for the right reason and change nothing, and the
// victim's score must not move.
func (s *sim) attacks(index map[peer.ID]int, before score.Result, now time.Time) {
	t := s.t
	// The victim: an honest non-anchor worker with standing, which an
	// honest requester R attested at least twice (so a lower sequence number
	// than R's last is a real one, not 0); the attacker and the flooder:
	// Sybils.
	var victim int
	var about []Attestation
	var genuine Attestation // issued by R about the victim
	for i := 1; i < simHonest && victim == 0; i++ {
		if before.Polo[s.ids[i].id] == 0 || slices.Contains(s.anchors, s.ids[i].id) {
			continue
		}
		as, err := s.store.BySubject(s.ids[i].id)
		require.NoError(t, err)
		for _, a := range as {
			if a.Seq >= 2 {
				victim, about, genuine = i, as, a
				break
			}
		}
	}
	require.NotZero(t, victim)
	attacker, flooder := simHonest, simHonest+1
	v, x := s.ids[victim], s.ids[attacker]
	r := index[genuine.Issuer]
	at := now.Add(-2 * time.Minute)
	fresh := func(label string) simTask { // a new genuine task R → victim, next seq
		return simTask{requester: r, worker: victim, outcome: Success, cost: 500, issuedAt: at, label: "attack/" + label}
	}
	signedBy := func(priv crypto.PrivKey, a Attestation) []byte { return mustMarshal(t, forceSign(t, priv, a)) }
	validRaw := func(tk simTask, seq uint64) []byte {
		rc, err := s.receipt(tk.worker, tk.requester, tk.label, tk.outcome, tk.cost, tk.issuedAt.Add(-time.Second))
		require.NoError(t, err)
		a, err := SignAttestation(s.ids[tk.requester].priv, NewAttestation(rc, tk.issuedAt, tk.issuedAt.Add(simLifetime), seq))
		require.NoError(t, err)
		return mustMarshal(t, a)
	}
	lastRV, err := s.store.LastSeq(genuine.Issuer, v.id)
	require.NoError(t, err)

	t.Logf("attacks on victim %d (Polo %d) by Sybil %d:", victim, before.Polo[v.id], attacker)

	// Slander: a failure about the victim needs the victim's receipt.
	forged := forceSignReceipt(t, x.priv, Receipt{
		Worker: v.id, Requester: x.id, TaskHash: simTaskHash("attack/slander-self-signed"),
		Outcome: Failure, Cost: 1, EndedAt: at.Add(-time.Second),
	})
	a := NewAttestation(forged, at, at.Add(simLifetime), 1)
	_, err = SignAttestation(x.priv, a)
	require.Error(t, err, "SignAttestation refuses a receipt the worker did not sign")
	s.expectReject("slander: receipt signed by the attacker", signedBy(x.priv, a), ReasonSignature)

	a = NewAttestation(genuine.Receipt, at, at.Add(simLifetime), 1)
	a.Issuer = x.id
	s.expectReject("slander: another pair's genuine receipt", signedBy(x.priv, a), ReasonMismatch)

	own, err := s.receipt(victim, attacker, "attack/slander-flip", Success, 700, at.Add(-time.Second))
	require.NoError(t, err)
	a = NewAttestation(own, at, at.Add(simLifetime), 1)
	a.Outcome = Failure
	_, err = SignAttestation(x.priv, a)
	require.Error(t, err, "SignAttestation refuses an outcome the receipt does not say")
	s.expectReject("slander: genuine success, outcome flipped", signedBy(x.priv, a), ReasonMismatch)

	// Replays.
	s.expectReject("replay: the same bytes", mustMarshal(t, genuine), ReasonDuplicate)
	a = NewAttestation(genuine.Receipt, at, at.Add(simLifetime), lastRV+1)
	replayed, err := SignAttestation(s.ids[r].priv, a)
	require.NoError(t, err)
	s.expectReject("replay: already-attested task, new seq", mustMarshal(t, replayed), ReasonTaskReplay)
	s.expectReject("replay: lower sequence number", validRaw(fresh("lower-seq"), lastRV-1), ReasonSequence)

	// Forgery and malformed input.
	raw := validRaw(fresh("flipped-sig"), lastRV+1)
	raw[len(raw)-10] ^= 0x01 // inside the trailing 64-byte signature
	s.expectReject("forgery: flipped signature byte", raw, ReasonSignature)
	self := simTask{requester: victim, worker: victim, outcome: Success, cost: 1, issuedAt: at, label: "attack/self"}
	s.expectReject("forgery: issuer = subject", validRaw(self, 1), ReasonSelf)
	old := fresh("expired")
	old.issuedAt = now.Add(-31 * 24 * time.Hour)
	s.expectReject("forgery: expired", validRaw(old, lastRV+1), ReasonExpired)
	future := fresh("future")
	future.issuedAt = now.Add(10 * time.Minute)
	s.expectReject("forgery: future-dated", validRaw(future, lastRV+1), ReasonFuture)
	big := append(validRaw(fresh("oversized"), lastRV+1), make([]byte, MaxEncodedSize)...)
	require.Greater(t, len(big), MaxEncodedSize)
	s.expectReject("malformed: oversized encoding", big, ReasonDecode)

	// Nothing about the victim changed.
	after, err := s.store.BySubject(v.id)
	require.NoError(t, err)
	require.Equal(t, len(about), len(after))
	lastAfter, err := s.store.LastSeq(genuine.Issuer, v.id)
	require.NoError(t, err)
	require.Equal(t, lastRV, lastAfter)

	// A flood: one Sybil sends simFlood attestations about other Sybils
	// within one rate window; the first DefaultIssuerRate are stored (and
	// scored), the rest refused for rate.
	stats, count := s.store.Stats(), s.store.Count()
	var accepted []Attestation
	for k := range simFlood {
		a, err := s.attest(simTask{
			requester: flooder, worker: simHonest + 2 + k%(simSybils-2), outcome: Success, cost: 1,
			issuedAt: now.Add(-time.Duration(simFlood-k) * time.Second), label: fmt.Sprintf("flood/%d", k),
		})
		if err == nil {
			accepted = append(accepted, a)
			continue
		}
		reason, ok := ReasonOf(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, ReasonRate, reason, "%v", err)
	}
	require.Len(t, accepted, DefaultIssuerRate)
	stats[ReasonRate] += simFlood - DefaultIssuerRate
	stats[Accepted] += DefaultIssuerRate
	require.Equal(t, stats, s.store.Stats())
	require.Equal(t, count+DefaultIssuerRate, s.store.Count())
	t.Logf("  %-44s → %d stored, %d rate", fmt.Sprintf("flood: %d from one issuer in one hour", simFlood), len(accepted), simFlood-len(accepted))
	for _, a := range accepted {
		s.feed(a)
	}
	require.Equal(t, s.store.Count(), s.fed, "the engine holds every stored attestation")

	// The victim's score is unchanged: refused evidence never reaches the
	// engine, and the flood stays inside the collective, whose internal
	// distribution does not move honest trust.
	res := s.engine.Compute(now)
	require.True(t, res.Converged)
	require.Equal(t, before.Polo[v.id], res.Polo[v.id], "victim's Polo")
	require.InDelta(t, before.Trust[v.id], res.Trust[v.id], 1e-9, "victim's trust")
	t.Logf("  victim's Polo before %d, after %d; store stats %v", before.Polo[v.id], res.Polo[v.id], s.store.Stats())
}

// median returns the median of xs.
func median(xs []int) float64 {
	s := slices.Sorted(slices.Values(xs))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return float64(s[m])
	}
	return float64(s[m-1]+s[m]) / 2
}

// quantile returns the nearest-rank q-quantile of xs.
func quantile(xs []int, q float64) int {
	s := slices.Sorted(slices.Values(xs))
	k := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(len(s)-1, k))]
}

// pearson returns the Pearson correlation of xs and ys.
func pearson(xs, ys []float64) float64 {
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i]/n, my+ys[i]/n
	}
	var sxy, sxx, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy, sxx, syy = sxy+dx*dy, sxx+dx*dx, syy+dy*dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

// spearman returns Spearman's rank correlation of xs and ys (ties get
// their average rank).
func spearman(xs, ys []float64) float64 {
	return pearson(ranks(xs), ranks(ys))
}

// ranks returns the 1-based ranks of xs, ties averaged.
func ranks(xs []float64) []float64 {
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(xs[a], xs[b]) })
	r := make([]float64, len(xs))
	for i := 0; i < len(order); {
		j := i
		for j+1 < len(order) && xs[order[j+1]] == xs[order[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[order[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}
