//! Model tensors in safetensors files (loadable from PyTorch/NumPy), written atomically; reading
//! checks names, shapes and dtypes and names the file on error.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::error::{Error, Result};
use crate::io::atomic;

/// Write f32 tensors to a safetensors file.
pub fn write_tensors(path: &Path, tensors: &[(&str, ArrayViewD<'_, f32>)]) -> Result<()> {
    let mut owned: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let bytes: Vec<u8> = t.iter().flat_map(|v| v.to_le_bytes()).collect();
        owned.push((name.to_string(), bytes, t.shape().to_vec()));
    }
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(n, b, s)| {
            TensorView::new(Dtype::F32, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::format(path, format!("cannot encode tensor {n}: {e}")))
        })
        .collect::<Result<_>>()?;
    let bytes = safetensors::serialize(views, None)
        .map_err(|e| Error::format(path, format!("cannot encode safetensors: {e}")))?;
    atomic::write_bytes(path, &bytes)
}

/// Read all tensors of a safetensors file as f32 arrays.
pub fn read_tensors(path: &Path) -> Result<BTreeMap<String, ArrayD<f32>>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::format(path, format!("not a valid safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::format(
                path,
                format!("tensor {name} has dtype {:?}, expected F32", view.dtype()),
            ));
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let arr = ArrayD::from_shape_vec(IxDyn(view.shape()), data)
            .map_err(|e| Error::format(path, format!("tensor {name}: {e}")))?;
        out.insert(name, arr);
    }
    Ok(out)
}

/// Take a tensor out of a loaded file and check its shape.
pub fn take(
    path: &Path,
    tensors: &mut BTreeMap<String, ArrayD<f32>>,
    name: &str,
    shape: &[usize],
) -> Result<ArrayD<f32>> {
    let t = tensors
        .remove(name)
        .ok_or_else(|| Error::format(path, format!("missing tensor {name}")))?;
    if t.shape() != shape {
        return Err(Error::format(
            path,
            format!(
                "tensor {name} has shape {:?}, expected {:?}",
                t.shape(),
                shape
            ),
        ));
    }
    Ok(t)
}

/// [`take`], then refuse a tensor holding NaN or an infinity, naming the file, the tensor and
/// the first bad element: model parameters are finite, and one that is not would score every
/// frame as NaN (or as nothing) without a word.
pub fn take_finite(
    path: &Path,
    tensors: &mut BTreeMap<String, ArrayD<f32>>,
    name: &str,
    shape: &[usize],
) -> Result<ArrayD<f32>> {
    let t = take(path, tensors, name, shape)?;
    check_finite(path, name, &t)?;
    Ok(t)
}

/// Refuse a tensor with a non-finite element (see [`take_finite`]).
pub fn check_finite(path: &Path, name: &str, t: &ArrayD<f32>) -> Result<()> {
    if let Some(i) = t.iter().position(|v| !v.is_finite()) {
        // Logical order: unravel the flat position into an index, last axis fastest.
        let mut at = vec![0; t.ndim()];
        let mut rest = i;
        for (a, &n) in at.iter_mut().zip(t.shape()).rev() {
            *a = rest % n;
            rest /= n;
        }
        return Err(Error::format(
            path,
            format!(
                "tensor {name} holds {} at {at:?}: model parameters must be finite (a damaged \
                 file, or a model saved after training diverged)",
                t.iter().nth(i).expect("found above")
            ),
        ));
    }
    Ok(())
}
