package main

import (
	"net"
	"strings"
	"testing"
)

// TestMetricsBadAddress: a bad --metrics address or a port in use is one line naming it and
// exit status 2, before the package is loaded (so it needs no root).
func TestMetricsBadAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	env := newCLIEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics", busy.Addr().String()}, "ecli: --metrics " + busy.Addr().String() + ": bind: address already in use"},
		{[]string{"--metrics", "9464"}, "ecli: --metrics 9464: address 9464: missing port in address"},
		{[]string{"--metrics", "127.0.0.1:99999"}, "ecli: --metrics 127.0.0.1:99999: "},
		{[]string{"--metrics", ":0", "--metrics-max-series", "0"}, "ecli: --metrics-max-series 0: want a positive number"},
	} {
		// ecli's flags go before PROG or among the tool's flags.
		for _, args := range [][]string{
			append(append([]string{"run"}, tc.args...), "tcpconnect", "-c"),
			append([]string{"run", "tcpconnect", "-c"}, tc.args...),
		} {
			_, stderr, code := env.run("", args...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], tc.want) {
				t.Errorf("ecli %s: exit %d, stderr %q; want exit 2 and one line starting %q", strings.Join(args, " "), code, stderr, tc.want)
			}
		}
	}
}
