package dalle.cli;

import dalle.tools.localkafka.LogTail;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs processes that outlive the {@code dalle} command: each started detached (its own session via
 * {@code setsid}, stdin from /dev/null, output appended to its log file) with a pid file
 * {@code <pids>/<name>.pid} holding its pid and start time, so that a later command can find it, tell it from an
 * unrelated process that reused the pid, and stop it.
 */
final class Supervisor {

    /** A started process. */
    record Started(ServiceSpec spec, Process process) {
    }

    /** What stopping one pid file's process did. */
    enum StopOutcome {
        /** It exited after SIGTERM within the grace period. */
        STOPPED,
        /** It ignored SIGTERM for the grace period and was killed (SIGKILL). */
        KILLED,
        /** It was not running (a stale pid file, now removed). */
        NOT_RUNNING
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();

    private final Path pidDir;

    /** A supervisor keeping its pid files in {@code pidDir} (created on first start). */
    Supervisor(Path pidDir) {
        this.pidDir = pidDir;
    }

    Path pidFile(String name) {
        return pidDir.resolve(name + ".pid");
    }

    /**
     * Starts {@code spec} detached and writes its pid file.
     *
     * @throws IOException when the program cannot be started; names the service and the command
     */
    Started start(ServiceSpec spec) throws IOException {
        List<String> command = new ArrayList<>(newSession());
        command.addAll(spec.command());
        Files.createDirectories(spec.logFile().toAbsolutePath().getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot start service " + spec.name() + " (" + String.join(" ", spec.command())
                    + "): " + e.getMessage(), e);
        }
        writePid(spec.name(), p.toHandle());
        return new Started(spec, p);
    }

    /** Records an already running process (e.g. the broker) under {@code name}. */
    void writePid(String name, ProcessHandle handle) throws IOException {
        Files.createDirectories(pidDir);
        long start = handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        Files.writeString(pidFile(name), handle.pid() + "\n" + start + "\n", StandardCharsets.UTF_8);
    }

    /**
     * Waits until every service's ready URL answers 2xx.
     *
     * @throws IOException when one exits, or is not ready within {@code timeout}: names it, its log file and
     *     the log's last lines
     */
    void awaitReady(List<Started> started, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, String> waiting = new LinkedHashMap<>();
        started.forEach(s -> waiting.put(s.spec().name(), "not asked yet"));
        while (true) {
            for (Started s : started) {
                String name = s.spec().name();
                if (!waiting.containsKey(name)) {
                    continue;
                }
                if (!s.process().isAlive()) {
                    throw new IOException("service " + name + " exited with code " + s.process().exitValue()
                            + " while starting; its log is " + s.spec().logFile() + LogTail.of(s.spec().logFile(), 20));
                }
                Optional<String> notReady = probe(s.spec().readyUrl());
                if (notReady.isEmpty()) {
                    waiting.remove(name);
                } else {
                    waiting.put(name, notReady.get());
                }
            }
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                String name = waiting.keySet().iterator().next();
                ServiceSpec spec = started.stream().filter(s -> s.spec().name().equals(name)).findFirst()
                        .orElseThrow().spec();
                throw new IOException("service " + name + " was not ready within " + timeout.toSeconds() + " s ("
                        + spec.readyUrl() + ": " + waiting.get(name) + ")"
                        + (waiting.size() > 1 ? "; not ready either: " + String.join(", ",
                        waiting.keySet().stream().skip(1).toList()) : "")
                        + "; its log is " + spec.logFile() + LogTail.of(spec.logFile(), 20));
            }
            sleep(250);
        }
    }

    /** Empty when {@code url} answers 2xx; else what it answered ("HTTP 503", "connection refused"). */
    static Optional<String> probe(URI url) {
        try {
            HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(2)).GET()
                    .build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() / 100 == 2 ? Optional.empty() : Optional.of("HTTP " + r.statusCode());
        } catch (java.net.ConnectException e) {
            return Optional.of("connection refused");
        } catch (IOException e) {
            return Optional.of(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted");
        }
    }

    /** Names with a pid file, sorted. */
    List<String> names() throws IOException {
        if (!Files.isDirectory(pidDir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(pidDir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pid"))
                    .map(n -> n.substring(0, n.length() - 4)).sorted().toList();
        }
    }

    /** The pid {@code name}'s pid file records, whether or not that process still runs. */
    Optional<Long> recordedPid(String name) throws IOException {
        Path file = pidFile(name);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(Files.readAllLines(file, StandardCharsets.UTF_8).get(0).strip()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The live process of {@code name}'s pid file: empty when there is none, or the pid now is another process. */
    Optional<ProcessHandle> process(String name) throws IOException {
        Path file = pidFile(name);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        long pid;
        long start;
        try {
            pid = Long.parseLong(lines.get(0).strip());
            start = lines.size() > 1 ? Long.parseLong(lines.get(1).strip()) : 0;
        } catch (RuntimeException e) {
            return Optional.empty(); // unreadable: not ours to signal
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> start == 0
                || h.info().startInstant().map(Instant::toEpochMilli).map(s -> s == start).orElse(true));
    }

    /**
     * Stops the processes of {@code names} together: SIGTERM to all, then SIGKILL to those still alive after
     * {@code grace}; removes their pid files.
     */
    Map<String, StopOutcome> stop(List<String> names, Duration grace) throws IOException {
        Map<String, ProcessHandle> live = new LinkedHashMap<>();
        Map<String, StopOutcome> outcomes = new LinkedHashMap<>();
        for (String name : names) {
            Optional<ProcessHandle> h = process(name);
            if (h.isPresent()) {
                live.put(name, h.get());
                h.get().destroy();
            } else {
                outcomes.put(name, StopOutcome.NOT_RUNNING);
            }
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (Map.Entry<String, ProcessHandle> e : live.entrySet()) {
            long left = Math.max(0, deadline - System.nanoTime());
            boolean exited = waitFor(e.getValue(), left);
            if (!exited) {
                e.getValue().destroyForcibly();
                waitFor(e.getValue(), TimeUnit.SECONDS.toNanos(10));
            }
            outcomes.put(e.getKey(), exited ? StopOutcome.STOPPED : StopOutcome.KILLED);
        }
        for (String name : names) {
            Files.deleteIfExists(pidFile(name));
        }
        Map<String, StopOutcome> ordered = new LinkedHashMap<>();
        names.forEach(n -> ordered.put(n, outcomes.get(n)));
        return ordered;
    }

    private static boolean waitFor(ProcessHandle h, long nanos) {
        try {
            h.onExit().get(nanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return !h.isAlive();
        } catch (java.util.concurrent.ExecutionException e) {
            return !h.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !h.isAlive();
        }
    }

    /** {@code setsid} where the machine has it, so a child leads its own session and survives our exit. */
    static List<String> newSession() {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin")) {
            if (Files.isExecutable(Path.of(dir, "setsid"))) {
                return List.of(Path.of(dir, "setsid").toString());
            }
        }
        return List.of();
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the services", e);
        }
    }
}
