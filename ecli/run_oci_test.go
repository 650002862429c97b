package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ecli/ecli/internal/oci/ocitest"
	"ecli/internal/testutils"
	"ecli/internal/testutils/tooltest"
)

// TestRunFromRegistry: push the built-in tcpconnlat to a real registry, then run it by tag
// and by digest and see a real connect of ours decoded.
func TestRunFromRegistry(t *testing.T) {
	testutils.RequirePrivileged(t)
	reg := ocitest.Start(t, ocitest.Options{})
	env := newCLIEnv(t)
	ref := reg.Host + "/tools/tcpconnlat:v1"
	out, _ := env.ok("", "push", ref, "../packages/tcpconnlat.json")
	digest := strings.TrimSpace(out)
	for _, r := range []string{ref, reg.Host + "/tools/tcpconnlat@" + digest} {
		t.Run(strings.TrimPrefix(r, reg.Host+"/"), func(t *testing.T) {
			runToolFromRef(t, env, r)
		})
	}
}

func runToolFromRef(t *testing.T, env *cliEnv, ref string) {
	cmd := exec.Command(tooltest.Ecli(t), "run", ref, "-j")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+env.cache, "DOCKER_CONFIG="+env.docker)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case <-deadline:
			t.Fatalf("no event for our connect to port %d; stderr: %s", port, stderr.String())
		case <-tick.C:
			if c, err := net.Dial("tcp4", ln.Addr().String()); err == nil {
				c.Close()
			}
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("ecli exited; stderr: %s", stderr.String())
			}
			var ev struct {
				Tgid  int    `json:"tgid"`
				Dport int    `json:"dport"`
				Daddr string `json:"daddr"`
			}
			if json.Unmarshal([]byte(l), &ev) == nil && ev.Dport == port && ev.Tgid == os.Getpid() {
				if ev.Daddr != "127.0.0.1" {
					t.Errorf("event %s", l)
				}
				return
			}
		}
	}
}
