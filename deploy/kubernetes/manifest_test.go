package kubernetes

import (
	"bytes"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestDaemonSet(t *testing.T) {
	m, err := Decode(DaemonSetYAML)
	if err != nil {
		t.Fatal(err)
	}
	ds := m.DaemonSet
	if m.Namespace == nil || ds.Namespace != m.Namespace.Name {
		t.Errorf("DaemonSet in namespace %q, the manifest creates %v", ds.Namespace, m.Namespace)
	}
	pod := ds.Spec.Template
	for k, v := range ds.Spec.Selector.MatchLabels {
		if pod.Labels[k] != v {
			t.Errorf("selector %s=%s does not select the pod template (%v)", k, v, pod.Labels)
		}
	}
	if !pod.Spec.HostPID {
		t.Error("hostPID is not set")
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	if c.SecurityContext == nil || c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged {
		t.Error("the container is not privileged")
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if c.Resources.Limits.Name(r, "").IsZero() || c.Resources.Requests.Name(r, "").IsZero() {
			t.Errorf("no %s request and limit", r)
		}
	}

	// The command line serves metrics on the port the pod declares, probes and
	// Prometheus's annotations use.
	if len(c.Command) != 0 || len(c.Args) < 2 || c.Args[0] != "run" {
		t.Fatalf("command %q args %q: want the image's entrypoint (ecli) with run PROG ...", c.Command, c.Args)
	}
	i := slices.Index(c.Args, "--metrics")
	if i < 0 || i+1 >= len(c.Args) {
		t.Fatalf("args %q have no --metrics ADDR", c.Args)
	}
	_, portText, err := net.SplitHostPort(c.Args[i+1])
	if err != nil {
		t.Fatalf("--metrics %s: %v", c.Args[i+1], err)
	}
	port, _ := strconv.Atoi(portText)
	if len(c.Ports) != 1 || int(c.Ports[0].ContainerPort) != port || c.Ports[0].Name != "metrics" {
		t.Errorf("ports %+v, want one named metrics on %d", c.Ports, port)
	}
	if got := pod.Annotations["prometheus.io/port"]; got != portText || pod.Annotations["prometheus.io/scrape"] != "true" || pod.Annotations["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations %v, want port %s and path /metrics", pod.Annotations, portText)
	}
	rp := c.ReadinessProbe
	if rp == nil || rp.HTTPGet == nil || rp.HTTPGet.Path != "/readyz" || rp.HTTPGet.Port.String() != "metrics" {
		t.Errorf("readiness probe %+v, want GET /readyz on port metrics", rp)
	}

	// /sys/kernel of the host is mounted where ecli looks for BTF and tracefs.
	mounts := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		if v.HostPath != nil {
			mounts[v.Name] = v.HostPath.Path
		}
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool {
		return vm.MountPath == "/sys/kernel" && mounts[vm.Name] == "/sys/kernel"
	}) {
		t.Errorf("mounts %+v (volumes %v): want the host's /sys/kernel at /sys/kernel", c.VolumeMounts, mounts)
	}
}

// TestDecodeStrict: a field the Kubernetes types do not have, or a kind the manifest does
// not expect, is an error.
func TestDecodeStrict(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown pod field", "      hostPID: true\n", "      hostPID: true\n      hostPIDs: true\n", `unknown field "hostPIDs"`},
		{"unknown container field", "          imagePullPolicy: IfNotPresent\n", "          imagePullPolicy: IfNotPresent\n          privileged: true\n", `unknown field "privileged"`},
		{"duplicate field", "      hostPID: true\n", "      hostPID: true\n      hostPID: false\n", "hostPID"},
		{"unexpected kind", "kind: Namespace\n", "kind: Secret\n", "document 1: unexpected v1 Secret"},
	} {
		bad := bytes.Replace(DaemonSetYAML, []byte(tc.old), []byte(tc.new), 1)
		if bytes.Equal(bad, DaemonSetYAML) {
			t.Fatalf("%s: the mutation did not apply", tc.name)
		}
		if _, err := Decode(bad); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
