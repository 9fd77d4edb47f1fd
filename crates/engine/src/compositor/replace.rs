//! Replacing a worker that wedged, lost its context or whose process died (and the debugging acts that make a
//! worker process die): from the last good versions, leaving out a suspect, and
//! finding the culprit by elimination when the first suspect was not it.

use super::*;

/// A replacement worker that wedges again within this time of the last one clears the module left out then.
const ELIMINATION_WINDOW: Duration = Duration::from_secs(10);

/// Finding which module wedges workers, one suspect left out at a time.
pub(super) struct Elimination {
    suspects: Vec<std::path::PathBuf>,
    /// The next suspect to leave out.
    next: usize,
    /// When the last replacement started.
    since: Instant,
}

impl Compositor {
    /// Makes the scene's worker process do a debugging act (the console's `debug-scene`). What follows (a
    /// replacement) comes with the next frames.
    pub fn debug_scene(&mut self, act: &str) -> Result<String, String> {
        let act = self.debug_act("debug-scene", act)?;
        self.worker.debug(act.clone())?;
        let pid = self.worker.pid().unwrap_or_default();
        Ok(format!("asked the scene's worker process ({pid}) to {act}"))
    }

    /// What carrying the scene worker's frames from its process cost so far (`None` for a thread).
    pub fn worker_transport(&self) -> Option<crate::worker::Transport> {
        self.worker.transport()
    }

    /// Reads a debugging act of `command`; a relative path to open is the scene's.
    pub(super) fn debug_act(
        &self,
        command: &str,
        text: &str,
    ) -> Result<crate::worker::process::wire::DebugAct, String> {
        use crate::worker::process::wire::DebugAct;
        Ok(match DebugAct::parse(command, text)? {
            DebugAct::Open(path) => DebugAct::Open(self.scene.dir.join(path)),
            act => act,
        })
    }

    /// The worker's context was lost to a GPU reset: a new worker, with a new context, starts from the last good
    /// versions (the frame on screen stays until its first frame).
    pub(super) fn replace_after_reset(&mut self) {
        if self.restart_worker(None) {
            self.report_restart(
                self.scene.dir.clone(),
                "the worker's GL context was lost (GPU reset): a new worker and context were started from the last \
                 good versions"
                    .into(),
            );
        }
    }

    /// Gives up a wedged worker and starts a replacement from the last good versions, leaving out the likeliest of
    /// `suspects`. A replacement that wedges again soon after says that the module left out was not the culprit:
    /// it comes back and the next suspect is left out instead (elimination), while the others keep running.
    pub(super) fn replace_worker(&mut self, suspects: Vec<std::path::PathBuf>) {
        let culprit = match &mut self.elimination {
            Some(e) if e.since.elapsed() < ELIMINATION_WINDOW && e.next < e.suspects.len() => {
                e.next += 1;
                e.since = Instant::now();
                e.suspects.get(e.next - 1).cloned()
            }
            _ => {
                let first = suspects.first().cloned();
                self.elimination = Some(Elimination { suspects, next: 1, since: Instant::now() });
                first
            }
        };
        let process = self.worker.pid();
        if self.restart_worker(culprit.clone()) {
            let name = culprit.as_ref().map_or("its code".to_owned(), |p| p.display().to_string());
            let abandoned = self.status.replacements - self.status.killed;
            let message = if let Some(pid) = process {
                format!(
                    "the scene's worker wedged in {name} (it ignored its interrupt: a finalizer or one long C call): its \
                     process ({pid}) was killed (its CPU and memory come back) and a new one started from the last \
                     good versions, leaving that module out (inert) until it is edited"
                )
            } else {
                format!(
                    "the scene's worker wedged in {name} (it ignored its interrupt: a finalizer or one long C call): it \
                 was given up and a new one started from the last good versions, leaving that module out (inert) \
                 until it is edited; {abandoned} abandoned worker thread{} still running, {} at the lowest OS \
                 priority (only a worker process could be killed)",
                    if abandoned == 1 { " is" } else { "s are" },
                    self.status.abandoned_lowered
                )
            };
            self.report_restart(culprit.unwrap_or_else(|| self.scene.dir.clone()), message);
        }
    }

    /// The worker's process ended (a crash, memory, a kill): a new one starts from the last good versions. The
    /// first time with every source; if it dies again soon after, the source that went live last (the likeliest
    /// culprit) is left out.
    pub(super) fn replace_after_gone(&mut self, how: String) {
        let again = self.last_gone.is_some_and(|at| at.elapsed() < ELIMINATION_WINDOW);
        self.last_gone = Some(Instant::now());
        let left_out = if again { self.last_live.clone() } else { None };
        if self.restart_worker(left_out.clone()) {
            let what = match &left_out {
                Some(path) => format!(
                    "it died again soon after: a new one started from the last good versions, leaving out {} (the \
                     source that went live last) until it is edited",
                    path.display()
                ),
                None => "a new one started from the last good versions".into(),
            };
            let file = left_out.unwrap_or_else(|| self.scene.dir.clone());
            self.report_restart(file, format!("the scene's worker {how}: {what}"));
        }
    }

    pub(super) fn report_restart(&mut self, file: std::path::PathBuf, message: String) {
        say(&self.overlay.editor.log, Level::Error, message.clone());
        self.status.diagnostics = vec![Diagnostic::error(file, message)];
        self.status.failing = true;
    }

    /// Starts a new worker on the spare context from the last good text of every source except `left_out`, and
    /// abandons the old one. The frame on screen stays until the new worker's first frame.
    pub(super) fn restart_worker(&mut self, left_out: Option<std::path::PathBuf>) -> bool {
        let context = match self.options.scene_place {
            WorkerPlace::Thread => match self.spare.take() {
                Some(context) => Some(context),
                None => {
                    self.status.worker_died =
                        Some("the worker had to be replaced and no spare context was ready".into());
                    return false;
                }
            },
            WorkerPlace::Process(_) => None,
        };
        // With the store, the replacement starts as a new session would: every source from its last good version,
        // with the versions before it in its history (the version numbers go on). Without it, from the texts.
        let texts = if self.options.store {
            Vec::new()
        } else {
            self.last_good
                .iter()
                .filter(|(p, _)| Some(*p) != left_out.as_ref())
                .map(|(p, t)| (p.clone(), t.to_string()))
                .collect()
        };
        let start = StartFrom { texts, left_out: left_out.into_iter().collect(), ..StartFrom::default() };
        // At the frame's size now (a resize since the start).
        let options = EngineOptions { size: self.size, ..self.options.clone() };
        match WorkerLink::spawn(&self.options.scene_place, context, &self.scene, &options, start) {
            Ok(worker) => {
                let old = std::mem::replace(&mut self.worker, worker);
                if old.pid().is_some() {
                    self.status.killed += 1;
                }
                if old.give_up(&mut self.retired) {
                    self.status.abandoned_lowered += 1;
                }
                for mut frame in self.pending.drain(..) {
                    frame.forget_fence(&self.gl);
                }
                self.orphan = self.shown.is_some();
                self.status.replacements += 1;
                // Buffers with edits the old worker had (a draft that does not build, one whose typing had not
                // paused) go to the new one as typed text: their diagnostics and versions come back.
                for (path, text) in self.overlay.editor.buffers() {
                    let live = self.last_good.get(path).is_some_and(|t| **t == *text);
                    if self.overlay.editor.unsaved(path) && !live {
                        self.worker.send(Command::Type { path: path.to_path_buf(), text: text.to_owned() });
                    }
                }
                true
            }
            Err(e) => {
                self.status.worker_died = Some(e);
                false
            }
        }
    }
}
