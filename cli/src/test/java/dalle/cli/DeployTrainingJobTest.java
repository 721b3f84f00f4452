package dalle.cli;

import static dalle.cli.DeployTree.at;
import static dalle.cli.DeployTree.container;
import static dalle.cli.DeployTree.env;
import static dalle.cli.DeployTree.list;
import static dalle.cli.DeployTree.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.cli.DeployTree.Doc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/training}: the workers are an Indexed Job behind a headless Service, share a checkpoint volume, prove
 * a cluster secret mounted from a Secret, listen on their pod IP only behind a NetworkPolicy, and their launch script
 * derives rank, peers, bind address and {@code --resume} the way the manifests promise.
 */
class DeployTrainingJobTest {

    private final DeployTree tree = DeployTree.load();
    private final Doc job = tree.all("Job", "training/").get(0);
    private final Map<String, Object> pod = cast(at(job.map(), "spec", "template"));
    private final Map<String, Object> worker = container(job);

    @Test
    void theJobIsIndexedWithCompletionsEqualToParallelismEqualToTheWorkersItLaunches() {
        assertEquals(1, tree.all("Job", "").size(), "one training Job");
        assertEquals("Indexed", at(job.map(), "spec", "completionMode"), job.toString());
        Object completions = at(job.map(), "spec", "completions");
        assertEquals(completions, at(job.map(), "spec", "parallelism"), job + ": completions == parallelism");
        int workers = Integer.parseInt(env(worker, "DALLE_WORKERS"));
        assertEquals(completions, workers, job + ": DALLE_WORKERS == completions");
        int groups = Integer.parseInt(env(worker, "DALLE_GROUPS"));
        assertTrue(groups >= 1 && workers % groups == 0, job + ": " + workers + " workers in " + groups + " groups");
        assertEquals(job.name(), env(worker, "DALLE_JOB"), job + ": the hostnames are <job>-<index>");
    }

    @Test
    void itsSubdomainIsTheHeadlessServiceThatSelectsItsPodsOnTheCollectivesPort() {
        String subdomain = str(pod, "spec", "subdomain");
        Doc svc = tree.find("Service", "training/", subdomain)
                .orElseThrow(() -> new AssertionError(job + ": subdomain " + subdomain + " is no Service"));
        assertEquals("None", str(svc.map(), "spec", "clusterIP"), svc + " must be headless");
        assertEquals(true, at(svc.map(), "spec", "publishNotReadyAddresses"), svc + ": names before readiness");
        Map<String, Object> selector = cast(at(svc.map(), "spec", "selector"));
        Map<String, Object> labels = cast(at(pod, "metadata", "labels"));
        assertTrue(labels.entrySet().containsAll(selector.entrySet()), svc + " selects " + selector + ", pods have "
                + labels);
        assertEquals(subdomain, env(worker, "DALLE_SERVICE"), job.toString());
        String port = env(worker, "DALLE_PORT");
        assertTrue(list(worker, "ports").stream().anyMatch(p -> port.equals(String.valueOf(p.get("containerPort")))),
                job + ": container port " + port);
        assertTrue(list(svc.map(), "spec", "ports").stream().anyMatch(p -> port.equals(String.valueOf(p.get("port")))),
                svc + ": port " + port);
    }

    @Test
    void aDeadWorkerRestartsTheRingFromTheSharedCheckpointVolume() {
        assertEquals("Never", str(pod, "spec", "restartPolicy"), "podFailurePolicy needs restartPolicy Never");
        int parallelism = (Integer) at(job.map(), "spec", "parallelism");
        assertTrue((Integer) at(job.map(), "spec", "backoffLimit") >= parallelism,
                job + ": one dead worker fails the whole ring, so backoffLimit must allow at least W failed pods");
        List<Map<String, Object>> rules = list(job.map(), "spec", "podFailurePolicy", "rules");
        assertTrue(rules.stream().anyMatch(r -> "Ignore".equals(r.get("action"))
                && list(r, "onPodConditions").stream().anyMatch(c -> "DisruptionTarget".equals(c.get("type")))),
                job + ": evictions and preemptions must not count as failures");
        assertTrue(rules.stream().anyMatch(r -> "FailJob".equals(r.get("action"))
                && ((List<?>) at(r, "onExitCodes", "values")).contains(2)), job + ": exit 2 (bad input) is final");

        String claim = list(pod, "spec", "volumes").stream().filter(v -> v.get("persistentVolumeClaim") != null)
                .map(v -> str(v, "persistentVolumeClaim", "claimName")).findFirst().orElseThrow();
        Doc pvc = tree.find("PersistentVolumeClaim", "training/", claim)
                .orElseThrow(() -> new AssertionError(job + ": claim " + claim + " is not in deploy/training"));
        assertTrue(((List<?>) at(pvc.map(), "spec", "accessModes")).contains("ReadWriteMany"),
                pvc + ": every worker mounts it");
        assertEquals(List.of("/bin/sh", "/opt/dalle-train/train.sh"), at(worker, "command"), job.toString());
    }

    @Test
    void theLaunchScriptGivesRankAndStablePeerNamesAndResumesWhenACheckpointExists(@TempDir Path dir)
            throws IOException, InterruptedException {
        Path script = dir.resolve("train.sh");
        Files.writeString(script, str(tree.find("ConfigMap", "training/", "dalle-train-script").orElseThrow().map(),
                "data", "train.sh"), StandardCharsets.UTF_8);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path fake = bin.resolve("dalle");
        Files.writeString(fake, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        assertTrue(fake.toFile().setExecutable(true));
        Path volume = Files.createDirectories(dir.resolve("checkpoints"));
        Files.writeString(secretFile(dir), "a secret of more than sixteen bytes\n");

        String peers = "dalle-train-0.dalle-train:7070,dalle-train-1.dalle-train:7070,"
                + "dalle-train-2.dalle-train:7070,dalle-train-3.dalle-train:7070";
        // a fresh volume: rank 0 prepares the run folder, then runs its worker
        List<String> first = launch(script, bin, volume, "0", 0);
        int worker = first.indexOf("worker");
        assertEquals(List.of("train", "prior", "--workers", "4", "--groups", "2",
                "--dvae", volume + "/dvae", "--steps", "100000", "--checkpoint-every", "500",
                "--out", volume + "/prior", "--prepare-only"), first.subList(1, worker - 1), String.join("\n", first));
        assertEquals(List.of("train", "worker", "--run", volume + "/prior", "--rank", "0", "--peers", peers,
                "--bind", POD_IP, "--peer-timeout", "300"), first.subList(worker - 1, first.size()));

        // another rank waits for run.json, and says so when it never comes
        ProcessResult waiting = run(script, bin, volume, "1", Map.of("DALLE_PREPARE_TIMEOUT", "0"));
        assertEquals(1, waiting.exit(), waiting.out());
        assertTrue(waiting.out().contains("rank 0 did not prepare the run"), waiting.out());

        // once rank 0 has prepared the run, rank 2 only starts its worker
        Files.createDirectories(volume.resolve("prior"));
        Files.writeString(volume.resolve("prior/run.json"), "{}");
        List<String> second = launch(script, bin, volume, "2", 0);
        assertEquals(List.of("train", "worker", "--run", volume + "/prior", "--rank", "2", "--peers", peers,
                "--bind", POD_IP, "--peer-timeout", "300"), second.subList(1, second.size()));
        assertTrue(second.stream().noneMatch(a -> a.contains("sixteen bytes")), "the secret is never an argument");

        Files.createDirectories(volume.resolve("prior/checkpoint"));
        List<String> again = launch(script, bin, volume, "0", 0);
        assertEquals("--resume", again.get(again.size() - 1), "a restart continues from the checkpoint: " + again);
        assertEquals("0", again.get(again.indexOf("--rank") + 1));
        assertFalse(again.contains("--prepare-only"), "a prepared run is not prepared again: " + again);
    }

    @Test
    void theWorkersProveASecretFromAMountedSecretAndListenOnThePodIpOnly() {
        // the secret: a file of the Secret dalle-train-secret, named by DALLE_CLUSTER_SECRET_FILE, never a literal
        String file = env(worker, "DALLE_CLUSTER_SECRET_FILE");
        Map<String, Object> volume = list(pod, "spec", "volumes").stream().filter(v -> v.get("secret") != null)
                .findFirst().orElseThrow(() -> new AssertionError(job + ": no Secret volume"));
        assertEquals("dalle-train-secret", str(volume, "secret", "secretName"), job.toString());
        assertEquals(true, at(volume, "secret", "optional"), job + ": a missing Secret reaches train.sh's exit 2 instead"
                + " of leaving the pods in ContainerCreating");
        Map<String, Object> mount = list(worker, "volumeMounts").stream()
                .filter(m -> volume.get("name").equals(m.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError(job + ": the Secret volume is not mounted"));
        assertEquals(true, mount.get("readOnly"), job + ": the secret mount is read-only");
        assertEquals(str(mount, "mountPath") + "/secret", file, job + ": the file is the Secret's key 'secret'");
        assertTrue(tree.all("Secret", "training/").isEmpty(), "no Secret (with a value) is committed in deploy/training");
        // the bind address: the pod IP from the downward API
        Map<String, Object> podIp = list(worker, "env").stream().filter(v -> "POD_IP".equals(v.get("name")))
                .findFirst().orElseThrow(() -> new AssertionError(job + ": no POD_IP"));
        assertEquals("status.podIP", str(podIp, "valueFrom", "fieldRef", "fieldPath"), job.toString());
        // and only the workers reach the workers' collectives port
        String port = env(worker, "DALLE_PORT");
        Doc policy = tree.all("NetworkPolicy", "training/").stream().findFirst()
                .orElseThrow(() -> new AssertionError("no NetworkPolicy in deploy/training"));
        Map<String, Object> labels = cast(at(pod, "metadata", "labels"));
        Map<String, Object> selected = cast(at(policy.map(), "spec", "podSelector", "matchLabels"));
        assertTrue(labels.entrySet().containsAll(selected.entrySet()), policy + " selects the workers");
        List<Map<String, Object>> ingress = list(policy.map(), "spec", "ingress");
        assertEquals(1, ingress.size(), policy.toString());
        List<Map<String, Object>> from = list(ingress.get(0), "from");
        assertEquals(1, from.size(), policy + ": one source");
        assertEquals(selected, at(from.get(0), "podSelector", "matchLabels"), policy + ": from the workers only");
        assertEquals(List.of(port), list(ingress.get(0), "ports").stream().map(p -> String.valueOf(p.get("port")))
                .toList(), policy + ": the collectives port only");
    }

    @Test
    void aWorkerWithoutItsSecretStopsWithTheCommandThatCreatesIt(@TempDir Path dir)
            throws IOException, InterruptedException {
        Path script = dir.resolve("train.sh");
        Files.writeString(script, str(tree.find("ConfigMap", "training/", "dalle-train-script").orElseThrow().map(),
                "data", "train.sh"), StandardCharsets.UTF_8);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path volume = Files.createDirectories(dir.resolve("checkpoints"));
        ProcessResult r = run(script, bin, volume, "1", Map.of());
        assertEquals(2, r.exit(), "exit 2 fails the Job at once (podFailurePolicy): " + r.out());
        assertTrue(r.out().contains("kubectl create secret generic dalle-train-secret"), r.out());
    }

    private static final String POD_IP = "10.4.0.17";

    private static Path secretFile(Path dir) {
        return dir.resolve("secret");
    }

    private record ProcessResult(int exit, String out) {}

    /** Runs the script as worker {@code rank} with the Job's env; returns its log line, then dalle's arguments. */
    private List<String> launch(Path script, Path bin, Path volume, String rank, int expectedExit)
            throws IOException, InterruptedException {
        ProcessResult r = run(script, bin, volume, rank, Map.of());
        assertEquals(expectedExit, r.exit(), r.out());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("worker rank " + rank + " of 4"), r.out());
        return lines;
    }

    private ProcessResult run(Path script, Path bin, Path volume, String rank, Map<String, String> extraEnv)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", script.toString()).redirectErrorStream(true);
        Map<String, String> e = pb.environment();
        for (Map<String, Object> v : list(worker, "env")) {
            e.put((String) v.get("name"), String.valueOf(v.get("value")));
        }
        e.put("JOB_COMPLETION_INDEX", rank);
        e.put("DALLE_CHECKPOINTS", volume.toString());
        e.put("POD_IP", POD_IP); // the downward API's status.podIP
        e.put("DALLE_CLUSTER_SECRET_FILE", secretFile(volume.getParent()).toString()); // the Secret's mount
        e.put("PATH", bin + ":" + e.getOrDefault("PATH", "/usr/bin:/bin"));
        e.putAll(extraEnv);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new ProcessResult(p.exitValue(), out);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }
}
