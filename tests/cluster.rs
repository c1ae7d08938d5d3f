//! The cluster recipes in scripts/cluster/: GNU parallel over 4 shards of the demo corpus gives, in
//! its concatenated feats.scp, exactly the features of one process; the Slurm recipe submits an
//! array and a concatenation job (checked against a stand-in `sbatch` that runs them here).

mod common;

use std::path::Path;
use std::process::Command;

use asrpipe::io::scp::read_scp_matrices;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Features of the whole list in one process, as (key, matrix) in list order.
fn single_process(list: &Path, dir: &Path) -> Vec<(String, ndarray::Array2<f32>)> {
    let (ark, scp) = (dir.join("one.ark"), dir.join("one.scp"));
    common::features_to_scp(list, &ark, &scp);
    read_scp_matrices(&scp).unwrap()
}

#[test]
fn gnu_parallel_shards_concatenate_to_the_single_process_features() {
    if Command::new("parallel").arg("--version").output().is_err() {
        eprintln!(
            "\n*** SKIPPING: GNU parallel is not installed (apt-get install parallel; .ci/run \
             installs it) ***\n"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (list, rows) = common::demo_list(dir.path());
    let out = dir.path().join("out");
    common::run_ok(
        Command::new(root().join("scripts/cluster/features-parallel.sh"))
            .args(["--pipeline", "pipelines/kaldi-mfcc-gmm.yaml"])
            .arg(&list)
            .arg("4")
            .arg(&out)
            .env("ASRPIPE", env!("CARGO_BIN_EXE_asrpipe")),
    );
    for k in 1..=4 {
        assert!(out.join(format!("feats.{k}.ark")).is_file());
    }
    let sharded = read_scp_matrices(&out.join("feats.scp")).unwrap();
    let single = single_process(&list, dir.path());
    assert_eq!(single.len(), rows.len());
    assert_eq!(sharded, single);
}

#[test]
fn slurm_recipe_submits_an_array_then_the_concatenation() {
    let dir = tempfile::tempdir().unwrap();
    let (list, _) = common::demo_list(dir.path());
    // A stand-in for sbatch: runs an array's tasks one after another (SLURM_ARRAY_TASK_ID set,
    // output to the --output file with %a replaced), logs every call.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("sbatch.log");
    let sbatch = format!(
        r#"#!/usr/bin/env bash
set -e
echo "$*" >> {log}
array="" wrap="" output=/dev/null
for a in "$@"; do
  case $a in
    --array=*) array=${{a#--array=}}; array=${{array%%%*}} ;;
    --wrap=*) wrap=${{a#--wrap=}} ;;
    --output=*) output=${{a#--output=}} ;;
  esac
done
if [[ -n $array ]]; then
  for i in $(seq ${{array%-*}} ${{array#*-}}); do
    SLURM_ARRAY_TASK_ID=$i bash -c "$wrap" > "${{output//%a/$i}}" 2>&1
  done
  echo 101
else
  bash -c "$wrap" > "$output" 2>&1
  echo 102
fi
"#,
        log = log.display()
    );
    std::fs::write(bin.join("sbatch"), sbatch).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("sbatch"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dir.path().join("out dir");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = common::run_ok(
        Command::new(root().join("scripts/cluster/features-slurm.sh"))
            .args([
                "--pipeline",
                "pipelines/kaldi-mfcc-gmm.yaml",
                "--max-running",
                "2",
            ])
            .arg(&list)
            .arg("3")
            .arg(&out)
            .env("ASRPIPE", env!("CARGO_BIN_EXE_asrpipe"))
            .env("PATH", path)
            .env("SBATCH_ARGS", "--partition=cpu"),
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("shards job 101 (1-3), concatenation job 102"),
        "{stdout}"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].contains("--partition=cpu") && calls[0].contains("--array=1-3%2"));
    assert!(calls[1].contains("--dependency=afterok:101"));
    let sharded = read_scp_matrices(&out.join("feats.scp")).unwrap();
    assert_eq!(sharded, single_process(&list, dir.path()));
}
