//! The process-instance diagram: a PNG drawn from the definition's BPMN DI, with the activity
//! the instance waits at outlined in thick red (Flowable's `DefaultProcessDiagramGenerator`
//! highlights active activities the same way).
//!
//! Tasks are boxes, events circles, gateways diamonds, sequence flows lines through their
//! waypoints. The canvas is the layout's bounding box plus a margin, scaled down when a side
//! would exceed [`MAX_SIDE`] so a hostile layout cannot make us allocate gigabytes.

use bpm_compat_model::{ActivityKind, CoreError, InstanceView, Shape};

/// Space around the drawing, in pixels.
pub const MARGIN: f64 = 10.0;
/// The largest side of a diagram, in pixels.
pub const MAX_SIDE: f64 = 4000.0;

pub const WHITE: [u8; 3] = [255, 255, 255];
pub const OUTLINE: [u8; 3] = [0, 0, 0];
pub const TASK_FILL: [u8; 3] = [255, 255, 240];
pub const EDGE: [u8; 3] = [88, 88, 88];
pub const HIGHLIGHT: [u8; 3] = [255, 0, 0];

struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width,
            height,
            rgb: WHITE.repeat(width * height),
        }
    }

    fn set(&mut self, x: i64, y: i64, color: [u8; 3]) {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return;
        }
        let i = (y as usize * self.width + x as usize) * 3;
        self.rgb[i..i + 3].copy_from_slice(&color);
    }

    fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: [u8; 3]) {
        let (x0, x1) = (x0.max(0), x1.min(self.width as i64 - 1));
        let (y0, y1) = (y0.max(0), y1.min(self.height as i64 - 1));
        for y in y0..=y1 {
            for x in x0..=x1 {
                self.set(x, y, color);
            }
        }
    }

    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, thickness: i64, color: [u8; 3]) {
        for t in 0..thickness {
            let (a, b, c, d) = (x0 + t, y0 + t, x1 - t, y1 - t);
            if a > c || b > d {
                break;
            }
            self.fill_rect(a, b, c, b, color);
            self.fill_rect(a, d, c, d, color);
            self.fill_rect(a, b, a, d, color);
            self.fill_rect(c, b, c, d, color);
        }
    }

    /// Bresenham, clipped per pixel; the caller bounds the coordinates.
    fn line(&mut self, (mut x0, mut y0): (i64, i64), (x1, y1): (i64, i64), color: [u8; 3]) {
        let dx = (x1 - x0).abs();
        let dy = -(y1 - y0).abs();
        let sx = if x0 < x1 { 1 } else { -1 };
        let sy = if y0 < y1 { 1 } else { -1 };
        let mut err = dx + dy;
        loop {
            self.set(x0, y0, color);
            if x0 == x1 && y0 == y1 {
                return;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x0 += sx;
            }
            if e2 <= dx {
                err += dx;
                y0 += sy;
            }
        }
    }

    fn ellipse(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, thickness: i64, color: [u8; 3]) {
        let (cx, cy) = ((x0 + x1) as f64 / 2.0, (y0 + y1) as f64 / 2.0);
        let (rx, ry) = (
            ((x1 - x0) as f64 / 2.0).max(1.0),
            ((y1 - y0) as f64 / 2.0).max(1.0),
        );
        let band = thickness as f64;
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (nx, ny) = ((x as f64 - cx) / rx, (y as f64 - cy) / ry);
                let d = (nx * nx + ny * ny).sqrt();
                let inner = 1.0 - band / rx.min(ry);
                if d <= 1.0 && d >= inner {
                    self.set(x, y, color);
                }
            }
        }
    }

    fn diamond(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: [u8; 3]) {
        let (mx, my) = ((x0 + x1) / 2, (y0 + y1) / 2);
        self.line((mx, y0), (x1, my), color);
        self.line((x1, my), (mx, y1), color);
        self.line((mx, y1), (x0, my), color);
        self.line((x0, my), (mx, y0), color);
    }

    fn png(&self) -> Result<Vec<u8>, png::EncodingError> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header()?;
            writer.write_image_data(&self.rgb)?;
            writer.finish()?;
        }
        Ok(out)
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

fn clamp(v: f64) -> i64 {
    let limit = MAX_SIDE + 2.0 * MARGIN + 2.0;
    let v = if v.is_nan() { 0.0 } else { v };
    v.clamp(-1.0, limit).round() as i64
}

/// Maps diagram coordinates onto the canvas.
struct Frame {
    min_x: f64,
    min_y: f64,
    scale: f64,
}

impl Frame {
    // Clamped just outside the canvas, so lines and fills stay bounded whatever the input.
    fn x(&self, x: f64) -> i64 {
        clamp((finite(x) - self.min_x) * self.scale + MARGIN)
    }
    fn y(&self, y: f64) -> i64 {
        clamp((finite(y) - self.min_y) * self.scale + MARGIN)
    }
    fn shape(&self, s: &Shape) -> (i64, i64, i64, i64) {
        (
            self.x(s.x),
            self.y(s.y),
            self.x(finite(s.x) + finite(s.width).max(0.0)),
            self.y(finite(s.y) + finite(s.height).max(0.0)),
        )
    }
}

/// The canvas size and frame a layout needs: `(width, height, frame)`.
fn frame(view: &InstanceView) -> (usize, usize, Frame) {
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut add = |x: f64, y: f64| {
        let (x, y) = (finite(x), finite(y));
        min_x = min_x.min(x);
        min_y = min_y.min(y);
        max_x = max_x.max(x);
        max_y = max_y.max(y);
    };
    if let Some(layout) = &view.definition.layout {
        for s in &layout.shapes {
            add(s.x, s.y);
            add(
                finite(s.x) + finite(s.width).max(0.0),
                finite(s.y) + finite(s.height).max(0.0),
            );
        }
        for e in &layout.edges {
            for (x, y) in &e.waypoints {
                add(*x, *y);
            }
        }
    }
    if min_x > max_x {
        (min_x, min_y, max_x, max_y) = (0.0, 0.0, 0.0, 0.0);
    }
    let span = |d: f64| if d.is_finite() { d.max(1.0) } else { f64::MAX };
    let (w, h) = (span(max_x - min_x), span(max_y - min_y));
    let scale = (MAX_SIDE / w).min(MAX_SIDE / h).min(1.0);
    let width = (w * scale).ceil() + 2.0 * MARGIN + 1.0;
    let height = (h * scale).ceil() + 2.0 * MARGIN + 1.0;
    (width as usize, height as usize, Frame { min_x, min_y, scale })
}

/// Draws the instance's diagram. The caller has checked that the definition has a layout.
pub fn render_png(view: &InstanceView) -> Result<Vec<u8>, CoreError> {
    let (width, height, f) = frame(view);
    let mut c = Canvas::new(width, height);
    let def = &view.definition;
    if let Some(layout) = &def.layout {
        for e in &layout.edges {
            for pair in e.waypoints.windows(2) {
                let a = (f.x(pair[0].0), f.y(pair[0].1));
                let b = (f.x(pair[1].0), f.y(pair[1].1));
                c.line(a, b, EDGE);
            }
        }
        for s in &layout.shapes {
            let (x0, y0, x1, y1) = f.shape(s);
            match def.activity(&s.element).map(|a| &a.kind) {
                Some(ActivityKind::StartEvent { .. }) => c.ellipse(x0, y0, x1, y1, 1, OUTLINE),
                Some(ActivityKind::EndEvent) => c.ellipse(x0, y0, x1, y1, 3, OUTLINE),
                Some(ActivityKind::ExclusiveGateway | ActivityKind::ParallelGateway) => {
                    c.diamond(x0, y0, x1, y1, OUTLINE)
                }
                Some(_) => {
                    c.fill_rect(x0, y0, x1, y1, TASK_FILL);
                    c.rect(x0, y0, x1, y1, 1, OUTLINE);
                }
                // Pools, lanes, annotations: a thin frame.
                None => c.rect(x0, y0, x1, y1, 1, EDGE),
            }
        }
        // Every activity a path waits at, as Flowable's active activity ids: paths parked
        // at a parallel join are inactive executions there and stay unmarked.
        let i = &view.instance;
        let active = i.tokens.iter().chain(i.activity_id.iter()).filter(|id| {
            !matches!(
                view.definition.activity(id).map(|a| &a.kind),
                Some(ActivityKind::ParallelGateway)
            )
        });
        for id in active {
            for s in layout.shapes.iter().filter(|s| &s.element == id) {
                let (x0, y0, x1, y1) = f.shape(s);
                c.rect(x0, y0, x1, y1, 3, HIGHLIGHT);
            }
        }
    }
    c.png().map_err(|e| CoreError::Internal {
        message: format!("diagram encoding failed: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::{definition, instance};
    use bpm_compat_model::{Edge, Layout};
    use std::sync::Arc;

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("png frame");
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn pixel(rgb: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * width + x) * 3) as usize;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    }

    #[test]
    fn draws_layout_with_highlight() {
        let view = InstanceView {
            instance: instance(),
            definition: Arc::new(definition()),
        };
        let png = render_png(&view).expect("renders");
        let (w, h, rgb) = decode(&png);
        // Shapes span x 100..445, y 100..180 (see render::tests::definition).
        assert_eq!((w, h), (345 + 21, 80 + 21));
        // The task `theTask` (x 200..300, y 100..180) has a red border.
        // Canvas x = diagram x - 100 + margin 10; canvas y = diagram y - 100 + 10.
        let (tx, ty) = (110, 10);
        assert_eq!(pixel(&rgb, w, tx, ty + 40), HIGHLIGHT);
        assert_eq!(pixel(&rgb, w, tx + 2, ty + 40), HIGHLIGHT);
        assert_eq!(pixel(&rgb, w, tx + 50, ty), HIGHLIGHT);
        assert_eq!(pixel(&rgb, w, tx + 50, ty + 40), TASK_FILL);
        // No red outside the task's box.
        for y in 0..h {
            for x in 0..w {
                let inside = (tx..=tx + 100).contains(&x) && (ty..=ty + 80).contains(&y);
                if !inside {
                    assert_ne!(pixel(&rgb, w, x, y), HIGHLIGHT, "({x},{y})");
                }
            }
        }
        // The flow from the start event to the task is drawn.
        assert_eq!(pixel(&rgb, w, 170 - 100 + 10, 140 - 100 + 10), EDGE);
    }

    #[test]
    fn highlights_every_waiting_path_but_not_a_join() {
        let mut def = definition();
        // Let the end event be a parallel join for this test.
        for a in &mut def.activities {
            if a.id == "end" {
                a.kind = ActivityKind::ParallelGateway;
            }
        }
        let plain = InstanceView {
            instance: instance(),
            definition: Arc::new(def.clone()),
        };
        let (w, _, one) = decode(&render_png(&plain).expect("renders"));
        let count = |rgb: &[u8]| rgb.chunks(3).filter(|p| *p == HIGHLIGHT).count();
        let mut two = instance();
        two.tokens = vec!["theTask".into(), "start".into()];
        let (_, _, both) = decode(
            &render_png(&InstanceView {
                instance: two.clone(),
                definition: Arc::new(def.clone()),
            })
            .expect("renders"),
        );
        assert!(
            count(&both) > count(&one),
            "the second waiting activity is marked too"
        );
        // The start event's box (x 100..130, y 125..155 in diagram coordinates) is marked.
        assert_eq!(pixel(&both, w, 10, 125 - 100 + 10 + 10), HIGHLIGHT);
        two.tokens = vec!["theTask".into(), "end".into()];
        let (_, _, join) = decode(
            &render_png(&InstanceView {
                instance: two,
                definition: Arc::new(def),
            })
            .expect("renders"),
        );
        assert_eq!(
            count(&join),
            count(&one),
            "a path waiting at a join is not active"
        );
    }

    #[test]
    fn hostile_layouts_stay_small() {
        let mut def = definition();
        def.layout = Some(Layout {
            shapes: vec![
                Shape {
                    element: "theTask".into(),
                    x: -1e12,
                    y: f64::NAN,
                    width: 1e15,
                    height: f64::INFINITY,
                },
                Shape {
                    element: "x".into(),
                    x: 0.0,
                    y: 0.0,
                    width: -5.0,
                    height: 5.0,
                },
            ],
            edges: vec![Edge {
                element: "f".into(),
                waypoints: vec![(f64::MAX, f64::MIN), (0.0, 0.0)],
            }],
        });
        let view = InstanceView {
            instance: instance(),
            definition: Arc::new(def),
        };
        let (w, h, _) = decode(&render_png(&view).expect("renders"));
        assert!(w as f64 <= MAX_SIDE + 2.0 * MARGIN + 1.0 && h as f64 <= MAX_SIDE + 2.0 * MARGIN + 1.0);
    }
}
