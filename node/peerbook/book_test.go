package peerbook

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRememberListForget(t *testing.T) {
	defer goleak.VerifyNone(t)
	db := memDB(t)
	defer db.Close()
	clock := &fixedClock{now: t0}
	b := New(db, Options{Now: clock.Now})

	got, err := b.List()
	require.NoError(t, err)
	require.Empty(t, got)
	require.Nil(t, b.Candidates(3))

	old := entry(t, t0.Add(-time.Hour), false)
	recent := entry(t, t0.Add(-time.Minute), false)
	server := entry(t, t0.Add(-2*time.Hour), true)
	for _, e := range []Entry{old, recent, server} {
		require.NoError(t, b.Remember(e))
	}
	got, err = b.List()
	require.NoError(t, err)
	requireSame(t, []Entry{server, recent, old}, got)

	// Remember replaces the peer's entry.
	old.LastSeen = t0
	old.Addrs = old.Addrs[:1]
	require.NoError(t, b.Remember(old))
	got, err = b.List()
	require.NoError(t, err)
	requireSame(t, []Entry{server, old, recent}, got)

	c := b.Candidates(2)
	require.Equal(t, []peer.ID{server.ID, old.ID}, []peer.ID{c[0].ID, c[1].ID})
	require.Equal(t, server.Addrs, c[0].Addrs)
	require.Len(t, b.Candidates(10), 3)
	require.Nil(t, b.Candidates(0))

	require.NoError(t, b.Forget(server.ID))
	require.NoError(t, b.Forget(server.ID)) // already gone: no error
	got, err = b.List()
	require.NoError(t, err)
	requireSame(t, []Entry{old, recent}, got)
	require.ErrorIs(t, b.Forget(""), ErrInvalid)
	require.Zero(t, b.Corrupt())
}

func TestListOrder(t *testing.T) {
	checkLeaks(t)
	db := memDB(t)
	defer db.Close()
	b := New(db, Options{Now: func() time.Time { return t0 }})

	same := t0.Add(-time.Hour)
	entries := []Entry{
		entry(t, t0.Add(-3*time.Hour), false),
		entry(t, same, false),
		entry(t, same, false),
		entry(t, t0.Add(-5*time.Hour), true),
		entry(t, t0.Add(-time.Minute), true),
		entry(t, t0.Add(-time.Second), false),
	}
	for _, e := range entries {
		require.NoError(t, b.Remember(e))
	}
	tie := []Entry{entries[1], entries[2]}
	if tie[0].ID > tie[1].ID {
		tie[0], tie[1] = tie[1], tie[0]
	}
	want := []Entry{entries[4], entries[3], entries[5], tie[0], tie[1], entries[0]}
	got, err := b.List()
	require.NoError(t, err)
	require.Equal(t, ids(want), ids(got))
}

func TestEvictMax(t *testing.T) {
	checkLeaks(t)
	db := memDB(t)
	defer db.Close()
	b := New(db, Options{Max: 3, Now: func() time.Time { return t0 }})

	var all []Entry
	for i := range 5 {
		e := entry(t, t0.Add(time.Duration(i-10)*time.Minute), false)
		all = append(all, e)
		require.NoError(t, b.Remember(e))
		require.LessOrEqual(t, len(rawKeys(t, db)), 3)
	}
	got, err := b.List()
	require.NoError(t, err)
	require.Equal(t, ids([]Entry{all[4], all[3], all[2]}), ids(got))

	// An entry older than all the others is dropped at once.
	stale := entry(t, t0.Add(-time.Hour), true)
	require.NoError(t, b.Remember(stale))
	got, err = b.List()
	require.NoError(t, err)
	require.Equal(t, ids([]Entry{all[4], all[3], all[2]}), ids(got))

	// At equal age a non-server goes before a server.
	tied := entry(t, all[2].LastSeen, true)
	require.NoError(t, b.Remember(tied))
	got, err = b.List()
	require.NoError(t, err)
	require.Equal(t, ids([]Entry{tied, all[4], all[3]}), ids(got))
}

func TestMaxAge(t *testing.T) {
	checkLeaks(t)
	db := memDB(t)
	defer db.Close()
	clock := &fixedClock{now: t0}
	b := New(db, Options{MaxAge: 24 * time.Hour, Now: clock.Now})

	fresh := entry(t, t0.Add(-23*time.Hour), false)
	stale := entry(t, t0.Add(-25*time.Hour), true)
	require.NoError(t, b.Remember(fresh))
	require.NoError(t, b.Remember(stale))
	got, err := b.List()
	require.NoError(t, err)
	require.Equal(t, ids([]Entry{fresh}), ids(got))
	require.Len(t, b.Candidates(5), 1)

	// Hidden, not deleted: with the clock set back it shows again.
	require.Len(t, rawKeys(t, db), 2)
	clock.now = t0.Add(-2 * time.Hour)
	got, err = b.List()
	require.NoError(t, err)
	require.Equal(t, ids([]Entry{stale, fresh}), ids(got))

	// The default MaxAge is 30 days.
	d := New(db, Options{Now: func() time.Time { return t0.Add(30*24*time.Hour - 24*time.Hour) }})
	got, err = d.List()
	require.NoError(t, err)
	require.Equal(t, ids([]Entry{fresh}), ids(got))
}

func TestRememberRefuses(t *testing.T) {
	checkLeaks(t)
	db := memDB(t)
	defer db.Close()
	b := New(db, Options{})

	// 33 × /ip4/…/tcp/… is 264 bytes: a valid multiaddr, too long.
	long := addr(t, strings.Repeat("/ip4/192.0.2.1/tcp/1", 33))
	require.Greater(t, len(long.Bytes()), MaxAddrLen)
	id := newID(t)
	nine := make([]ma.Multiaddr, 9)
	for i := range nine {
		nine[i] = addr(t, "/ip4/192.0.2.1/tcp/4001")
	}
	cases := map[string]func(e *Entry){
		"empty ID":      func(e *Entry) { e.ID = "" },
		"bad ID":        func(e *Entry) { e.ID = "not a multihash" },
		"zero LastSeen": func(e *Entry) { e.LastSeen = time.Time{} },
		"before 1970":   func(e *Entry) { e.LastSeen = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) },
		"after 2262":    func(e *Entry) { e.LastSeen = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) },
		"no addrs":      func(e *Entry) { e.Addrs = nil },
		"nine addrs":    func(e *Entry) { e.Addrs = nine },
		"empty addr":    func(e *Entry) { e.Addrs = []ma.Multiaddr{addr(t, "/ip4/192.0.2.1/tcp/1"), nil} },
		"oversize addr": func(e *Entry) { e.Addrs = []ma.Multiaddr{long} },
		"p2p suffix":    func(e *Entry) { e.Addrs = []ma.Multiaddr{addr(t, "/ip4/192.0.2.1/tcp/1/p2p/"+id.String())} },
		"relay addr": func(e *Entry) {
			e.Addrs = []ma.Multiaddr{addr(t, "/ip4/192.0.2.1/tcp/1/p2p/"+id.String()+"/p2p-circuit")}
		},
		"relay, no /p2p": func(e *Entry) { e.Addrs = []ma.Multiaddr{addr(t, "/ip4/192.0.2.1/tcp/1/p2p-circuit")} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			e := entry(t, t0, true)
			mutate(&e)
			err := b.Remember(e)
			require.ErrorIs(t, err, ErrInvalid)
			t.Log(err)
			require.Empty(t, rawKeys(t, db))
		})
	}
}

func TestCorruptEntriesDropped(t *testing.T) {
	checkLeaks(t)
	db := memDB(t)
	defer db.Close()
	b := New(db, Options{Now: func() time.Time { return t0 }})

	good := entry(t, t0.Add(-time.Minute), false)
	require.NoError(t, b.Remember(good))
	valid, err := encodeEntry(good)
	require.NoError(t, err)
	putRaw(t, db, entryKey(newID(t)), []byte("garbage"))
	putRaw(t, db, []byte(keyPrefix+"not a peer ID"), valid)
	putRaw(t, db, entryKey(newID(t)), append(valid, 0)) // trailing byte
	require.Len(t, rawKeys(t, db), 4)

	got, err := b.List()
	require.NoError(t, err)
	requireSame(t, []Entry{good}, got)
	require.Equal(t, 3, b.Corrupt())
	require.Equal(t, []string{string(entryKey(good.ID))}, rawKeys(t, db))

	got, err = b.List()
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, 3, b.Corrupt())

	// Remember drops damaged entries too, before counting toward Max.
	putRaw(t, db, entryKey(newID(t)), valid[:len(valid)-1])
	require.NoError(t, b.Remember(entry(t, t0, true)))
	require.Equal(t, 4, b.Corrupt())
	require.Len(t, rawKeys(t, db), 2)
}

func TestPersistsAcrossReopen(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	now := func() time.Time { return t0 }
	db := diskDB(t, dir)
	b := New(db, Options{Now: now})
	want := []Entry{entry(t, t0.Add(-time.Hour), true), entry(t, t0.Add(-time.Minute), false)}
	for _, e := range want {
		require.NoError(t, b.Remember(e))
	}
	require.NoError(t, db.Close())

	db = diskDB(t, dir)
	defer db.Close()
	got, err := New(db, Options{Now: now}).List()
	require.NoError(t, err)
	requireSame(t, want, got)
}

func TestClosedDBErrors(t *testing.T) {
	checkLeaks(t)
	db := memDB(t)
	b := New(db, Options{})
	require.NoError(t, db.Close())
	_, err := b.List()
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrInvalid))
	require.Error(t, b.Remember(entry(t, t0, false)))
	require.Nil(t, b.Candidates(1))
}

func TestConcurrentUse(t *testing.T) {
	checkLeaks(t)
	db := memDB(t)
	defer db.Close()
	b := New(db, Options{Max: 16, Now: func() time.Time { return t0 }})

	errs := make(chan error, 8*(10+3))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				e := entry(t, t0.Add(-time.Duration(g*10+i)*time.Second), i%3 == 0)
				errs <- b.Remember(e)
				if i%4 == 0 {
					_, err := b.List()
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := b.List()
	require.NoError(t, err)
	require.Len(t, got, 16)
	require.Len(t, rawKeys(t, db), 16)
}
