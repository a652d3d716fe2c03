package localapi

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseArgs(t *testing.T) {
	ok := []struct {
		parse    func(string) (string, error)
		in, want string
	}{
		{ParseTarget, "3F2A.91C0.7D14", "3f2a.91c0.7d14"},
		{ParseTarget, "My-Agent", "my-agent"},
		{ParseAddr, "3f2a.91c0.7d14", "3f2a.91c0.7d14"},
		{ParseHostname, "Weather", "weather"},
		{ParseTag, " Forecast ", "forecast"},
		{ParseTopic, "jobs.done_1", "jobs.done_1"},
	}
	for _, c := range ok {
		got, err := c.parse(c.in)
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, got)
	}
	bad := []struct {
		parse func(string) (string, error)
		in    string
		msg   string
	}{
		{ParseTarget, "", "the agent is empty"},
		{ParseTarget, "3f2a.91c0", "3f2a.91c0"},
		{ParseTarget, "bad_host!", `"bad_host!" is neither a pilot address nor a valid hostname`},
		{ParseAddr, "my-agent", "my-agent"},
		{ParseHostname, "-x", "must not start or end with '-'"},
		{ParseHostname, "3f2a91c07d14", "would read as a Pilot address"},
		{ParseTag, "", "tag is empty"},
		{ParseTopic, "Jobs", "lower case"},
	}
	for _, c := range bad {
		_, err := c.parse(c.in)
		var e *Error
		require.True(t, errors.As(err, &e), "%q: %v", c.in, err)
		require.Equal(t, CodeInvalidArgument, e.Code)
		require.NotEmpty(t, e.Hint)
		require.Contains(t, e.Message, c.msg)
	}
}

func TestIn(t *testing.T) {
	_, err := ParseTag("")
	named := In("tag", err)
	var e *Error
	require.True(t, errors.As(named, &e))
	require.Equal(t, CodeInvalidArgument, e.Code)
	require.Equal(t, "tag: "+err.Error(), e.Message)
	require.NoError(t, In("tag", nil))
	plain := errors.New("plain")
	require.Equal(t, plain, In("x", plain), "other errors pass through")
}
