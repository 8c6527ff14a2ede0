"""HoloGAN: the rigid 3-D rotation is exact for 90-degree turns; the pose acts on the image
only through a rigid rotation of a feature volume fixed by z (same z, two poses: one object
turned); fitted to two shapes, one z keeps its shape at unseen poses."""

import itertools

import pytest
import torch

import perceptzoo
from perceptzoo.data.voxels import grid_points
from perceptzoo.errors import UserError
from perceptzoo.gans3d.projection import camera_rotation, project, random_rotations, rotate_volume


def _cube_rotations() -> list[torch.Tensor]:
    """The 24 rotations of the cube: signed permutation matrices with determinant +1."""
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            r = torch.zeros(3, 3)
            for i, (j, s) in enumerate(zip(perm, signs)):
                r[i, j] = s
            if torch.det(r) > 0:
                out.append(r)
    return out


def _brute_force_rotation(volume: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """V_R(q) = V(R^T q) voxel by voxel: view voxel (d, h, w) at q = (c_w, c_h, c_d) reads the
    world voxel whose centre is R^T q."""
    n = volume.shape[-1]
    q = grid_points(n)                                     # (n, n, n, 3) as (x, y, z)
    p = q @ r                                               # R^T q for row vectors
    idx = ((p + 1) * n / 2 - 0.5).round().long()            # (x, y, z) -> (w, h, d)
    return volume[..., idx[..., 2], idx[..., 1], idx[..., 0]]


def test_the_rotation_is_exact_for_every_90_degree_turn():
    rotations = _cube_rotations()
    assert len(rotations) == 24
    v = torch.randn(1, 2, 4, 4, 4)
    for r in rotations:
        torch.testing.assert_close(rotate_volume(v, r[None]), _brute_force_rotation(v, r),
                                   atol=1e-5, rtol=0)


def test_same_z_at_two_poses_is_one_feature_volume_rigidly_turned():
    torch.manual_seed(0)
    model = perceptzoo.build("hologan", data_shape=(1, 16, 16), channels=4, latent_dim=8,
                             projection_channels=8)
    z = model.latent(2)
    r_a = camera_rotation((1.0, 0.0, 0.0))[None]           # azimuth 0
    r_b = camera_rotation((0.0, 1.0, 0.0))[None]           # azimuth 90: a permutation too
    with torch.no_grad():
        va, vb = model.generator.view_volume(z[:1], r_a), model.generator.view_volume(z[:1], r_b)
        # V_Rb = rotate(V_Ra, Rb Ra^T), exactly: the pose moves one volume and makes no other
        torch.testing.assert_close(vb, rotate_volume(va, r_b @ r_a.transpose(1, 2)),
                                   atol=1e-5, rtol=0)
        img_a, img_b = model.generator(z[:1], r_a), model.generator(z[:1], r_b)
        other = model.generator.view_volume(z[1:], r_a)
    assert (img_a - img_b).abs().max() > 1e-4                 # the view changes with the pose
    assert (va - other).abs().max() > 1e-3                    # the volume changes with z
    torch.testing.assert_close(img_b, model.generator.render_volume(vb, z[:1]))


@pytest.mark.slow
def test_a_fitted_latent_keeps_its_shape_at_unseen_poses():
    """Two latents fitted (supervised, about 15 CPU-seconds) to the visual-hull views of a box
    and a torus at random poses render their own shape at four unseen poses: IoU > 0.8 with
    the true view, and below it with the other shape's view."""
    from perceptzoo.data import voxels

    torch.manual_seed(0)
    ds = voxels.load("voxels16", "train")
    vox = ds.x[[(ds.y == 1).nonzero()[0].item(), (ds.y == 2).nonzero()[0].item()]].float()
    model = perceptzoo.build("hologan", data_shape=(1, 16, 16), channels=8, latent_dim=4,
                             projection_channels=32)
    z = model.latent(2)
    opt = torch.optim.Adam(model.generator.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        r, k = random_rotations(8, g), torch.arange(8) % 2
        loss = torch.nn.functional.binary_cross_entropy(model.generator(z[k], r),
                                                        project(vox[k], r, "visual_hull"))
        opt.zero_grad()
        loss.backward()
        opt.step()
    r = random_rotations(4, torch.Generator().manual_seed(99))
    with torch.no_grad():
        for k in range(2):
            seen = model.generator(z[[k] * 4], r) > 0.5
            own, other = (project(vox[[j] * 4], r, "visual_hull") > 0.5 for j in (k, 1 - k))
            iou_own = ((seen & own).flatten(1).sum(1) / (seen | own).flatten(1).sum(1))
            iou_other = ((seen & other).flatten(1).sum(1) / (seen | other).flatten(1).sum(1))
            assert (iou_own > 0.8).all() and (iou_own > iou_other).all()


def test_hologan_refuses_views_it_cannot_model():
    with pytest.raises(UserError, match="power of two"):
        perceptzoo.build("hologan", data_shape=(1, 12, 12))
    with pytest.raises(UserError, match="square"):
        perceptzoo.build("hologan", data_shape=(1, 16, 8))
    model = perceptzoo.build("hologan", data_shape=(1, 8, 8), channels=2, latent_dim=2,
                             projection_channels=2)
    with pytest.raises(UserError, match="unconditional"):
        model.sample(1, cond=torch.zeros(1))
