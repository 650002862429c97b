package docker_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"

	"ecli/deploy/kubernetes"
	"ecli/internal/testutils"
)

const runtimeImage = "ecli-runtime:test"

var (
	runtimeOnce sync.Once
	runtimeErr  error
)

// requireRuntimeImage builds the runtime image with `make ecli-image` on the local base.
func requireRuntimeImage(t *testing.T) string {
	t.Helper()
	testutils.RequirePrivileged(t)
	testutils.SkipUnless(t, exec.Command("docker", "info").Run() == nil,
		"needs a running docker daemon: `docker info` failed (.ci/setup.d/docker.sh starts dockerd)")
	testutils.SkipUnless(t, exec.Command("docker", "image", "inspect", baseImage).Run() == nil,
		"needs the base image "+baseImage+" (.ci/setup.d/docker.sh builds it without a registry)")
	runtimeOnce.Do(func() {
		start := time.Now()
		out, err := exec.Command("make", "--no-print-directory", "-C", root, "ecli-image",
			"ECLI_IMAGE="+runtimeImage, "ECLI_IMAGE_BASE="+baseImage).CombinedOutput()
		if err != nil {
			runtimeErr = fmt.Errorf("make ecli-image: %w\n%s", err, out)
			return
		}
		t.Logf("make ecli-image: %v", time.Since(start).Round(time.Millisecond))
	})
	if runtimeErr != nil {
		t.Fatal(runtimeErr)
	}
	return runtimeImage
}

// podRunArgs turns the DaemonSet's pod into `docker run` flags: privileged, the host's PID
// namespace, the hostPath mounts and the container ports (published on loopback).
func podRunArgs(t *testing.T, pod corev1.PodSpec, c corev1.Container) []string {
	t.Helper()
	var args []string
	if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
		args = append(args, privileged(t)...)
	}
	if pod.HostPID {
		args = append(args, "--pid=host")
	}
	host := map[string]string{}
	for _, v := range pod.Volumes {
		if v.HostPath == nil {
			t.Fatalf("volume %s is not a hostPath: the test cannot give it to docker", v.Name)
		}
		host[v.Name] = v.HostPath.Path
	}
	for _, m := range c.VolumeMounts {
		args = append(args, "-v", host[m.Name]+":"+m.MountPath)
	}
	for _, p := range c.Ports {
		args = append(args, "-p", fmt.Sprintf("127.0.0.1::%d", p.ContainerPort))
	}
	return args
}

// capNames are the Linux capabilities by number (linux/capability.h), as docker spells them.
var capNames = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT",
	"SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
	"PERFMON", "BPF", "CHECKPOINT_RESTORE"}

// privileged returns the docker flags of a privileged container: --privileged, or, where
// this machine's own capability bounding set lacks some capability (runc then cannot grant
// it and --privileged fails), every capability the machine has, with no seccomp or
// AppArmor profile.
func privileged(t *testing.T) []string {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var bnd uint64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			bnd, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("CapBnd %q: %v", v, err)
			}
		}
	}
	var missing []string
	for i, name := range capNames {
		if bnd&(1<<i) == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return []string{"--privileged"}
	}
	t.Logf("this machine's capability bounding set lacks %v: running the container with every other capability instead of --privileged", missing)
	args := []string{"--cap-add=ALL", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined"}
	for _, name := range missing {
		args = append(args, "--cap-drop="+name)
	}
	return args
}

// container is a detached container the test started.
type container struct{ id string }

func runContainer(t *testing.T, args ...string) *container {
	t.Helper()
	out, err := exec.Command("docker", append([]string{"run", "-d"}, args...)...).Output()
	if err != nil {
		t.Fatalf("docker run %s: %v %s", strings.Join(args, " "), err, stderrOf(err))
	}
	c := &container{id: strings.TrimSpace(string(out))}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", c.id).CombinedOutput()
			t.Logf("container logs:\n%s", logs)
		}
		exec.Command("docker", "rm", "-f", c.id).Run()
	})
	return c
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// hostPort is where a container port is published.
func (c *container) hostPort(t *testing.T, port int32) string {
	t.Helper()
	out, err := exec.Command("docker", "port", c.id, fmt.Sprintf("%d/tcp", port)).Output()
	if err != nil {
		t.Fatalf("docker port: %v", err)
	}
	return strings.TrimSpace(strings.Split(string(out), "\n")[0])
}

// stop stops the container with SIGTERM (as the kubelet does) and checks ecli exited 0.
func (c *container) stop(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("docker", "stop", "-t", "10", c.id).CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v %s", err, out)
	}
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.ExitCode}}", c.id).Output()
	if err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Errorf("ecli exited with %q (%v), want 0", out, err)
	}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	testutils.WaitFor(t, time.Minute, url, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// scrape reads a metrics endpoint.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return mfs
}

// value is the value of the series of family name whose labels include want, or -1.
func value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	for _, m := range mfs[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// TestRuntimeImageDaemonSet runs the DaemonSet's container as docker would on a node: the
// runtime image, privileged, the host's PID namespace and /sys/kernel, with the manifest's
// own command line. The connects the test makes on the host show in its metrics, and the
// readiness endpoint the manifest probes answers.
func TestRuntimeImageDaemonSet(t *testing.T) {
	image := requireRuntimeImage(t)
	m, err := kubernetes.Decode(kubernetes.DaemonSetYAML)
	if err != nil {
		t.Fatal(err)
	}
	pod := m.DaemonSet.Spec.Template.Spec
	c := pod.Containers[0]
	args := append(append(podRunArgs(t, pod, c), image), c.Args...)
	ctr := runContainer(t, args...)
	addr := ctr.hostPort(t, c.Ports[0].ContainerPort)
	waitReady(t, "http://"+addr+c.ReadinessProbe.HTTPGet.Path)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	const connects = 4
	for range connects {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	series := map[string]string{"raddr": "127.0.0.1", "dport": strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}
	var got float64
	if !testutils.Poll(30*time.Second, func() bool {
		got = value(scrape(t, "http://"+addr+"/metrics"), "ecli_tcpconnect_counts_connects_total", series)
		return got == connects
	}) {
		t.Fatalf("ecli_tcpconnect_counts_connects_total%v = %v, want %d", series, got, connects)
	}
	ctr.stop(t)
}

// TestRuntimeImagePackageFile runs a package file mounted into the container (as a
// ConfigMap would be, docs/fleet.md) and sees an exec made on the host.
func TestRuntimeImagePackageFile(t *testing.T) {
	image := requireRuntimeImage(t)
	dir := t.TempDir()
	pkg := readFile(t, filepath.Join(root, "test", "metrics", "testdata", "execlat", "execlat.json"))
	if err := os.WriteFile(filepath.Join(dir, "package.json"), pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	ctr := runContainer(t, append(privileged(t), "--pid=host", "-v", "/sys/kernel:/sys/kernel",
		"-v", dir+":/etc/ecli:ro", "-p", "127.0.0.1::9464",
		image, "run", "/etc/ecli/package.json", "--metrics", ":9464", "--quiet")...)
	addr := ctr.hostPort(t, 9464)
	waitReady(t, "http://"+addr+"/readyz")
	var got float64
	if !testutils.Poll(30*time.Second, func() bool {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
		got = value(scrape(t, "http://"+addr+"/metrics"), "ecli_execlat_hists_usecs", map[string]string{"comm": "true"})
		return got >= 1
	}) {
		t.Fatalf("no exec of true counted (%v)", got)
	}
	ctr.stop(t)
}
