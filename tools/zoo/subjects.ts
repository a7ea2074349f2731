/**
 * Subject drawings of the procedural zoo: recognisable silhouettes with a few interior details,
 * drawn with standard Canvas 2D paths in a unit box (x, y in [-0.5, 0.5], y down).
 *
 * Drawing goes through a `Pen`, so the same drawing code paints colour renders (`render.ts`) and
 * black-on-white hand-sketch strokes (`sketch.ts`).
 */

/** The Canvas 2D subset the zoo uses (satisfied by browsers' contexts and @napi-rs/canvas). */
export type Ctx2D = Pick<
  CanvasRenderingContext2D,
  | 'fillStyle'
  | 'strokeStyle'
  | 'lineWidth'
  | 'lineCap'
  | 'lineJoin'
  | 'globalAlpha'
  | 'save'
  | 'restore'
  | 'translate'
  | 'rotate'
  | 'scale'
  | 'setTransform'
  | 'beginPath'
  | 'closePath'
  | 'moveTo'
  | 'lineTo'
  | 'quadraticCurveTo'
  | 'bezierCurveTo'
  | 'arc'
  | 'ellipse'
  | 'rect'
  | 'fill'
  | 'stroke'
  | 'fillRect'
  | 'createLinearGradient'
  | 'createRadialGradient'
  | 'getImageData'
>;

/** Colour roles: 0 body, 1 secondary, 2 accent, 3 ink (outline / dark details), 4 light highlight. */
export type Role = 0 | 1 | 2 | 3 | 4;
const BODY: Role = 0;
const SECOND: Role = 1;
const ACCENT: Role = 2;
const INK: Role = 3;
const LIGHT: Role = 4;

type Build = (c: Ctx2D) => void;

export interface Pen {
  c: Ctx2D;
  /** Fills a closed shape (in sketch mode: strokes its outline). `build` issues the path (no beginPath needed). */
  fill(role: Role, build: Build, evenOdd?: boolean): void;
  /** Strokes an open line of `width` unit-box units. */
  line(role: Role, width: number, build: Build): void;
}

export type SubjectDraw = (p: Pen, rand: () => number) => void;

const TAU = Math.PI * 2;

function circle(x: number, y: number, r: number): Build {
  return (c) => {
    c.moveTo(x + r, y);
    c.arc(x, y, r, 0, TAU);
  };
}

function ellipse(x: number, y: number, rx: number, ry: number, rot = 0): Build {
  return (c) => {
    c.moveTo(x + rx * Math.cos(rot), y + rx * Math.sin(rot));
    c.ellipse(x, y, rx, ry, rot, 0, TAU);
  };
}

function poly(...pts: number[]): Build {
  return (c) => {
    c.moveTo(pts[0]!, pts[1]!);
    for (let i = 2; i < pts.length; i += 2) c.lineTo(pts[i]!, pts[i + 1]!);
    c.closePath();
  };
}

function rect(x: number, y: number, w: number, h: number): Build {
  return (c) => c.rect(x, y, w, h);
}

function seg(x0: number, y0: number, x1: number, y1: number): Build {
  return (c) => {
    c.moveTo(x0, y0);
    c.lineTo(x1, y1);
  };
}

function starPath(cx: number, cy: number, outer: number, inner: number, points: number): Build {
  return (c) => {
    for (let i = 0; i < points * 2; i++) {
      const a = -Math.PI / 2 + (i * Math.PI) / points;
      const r = i % 2 === 0 ? outer : inner;
      const x = cx + r * Math.cos(a);
      const y = cy + r * Math.sin(a);
      if (i === 0) c.moveTo(x, y);
      else c.lineTo(x, y);
    }
    c.closePath();
  };
}

const star: SubjectDraw = (p, r) => {
  const inner = 0.18 + 0.05 * r();
  p.fill(BODY, starPath(0, 0.04, 0.52, inner, 5));
  p.fill(ACCENT, starPath(0, 0.04, 0.24, inner * 0.45, 5));
  p.fill(LIGHT, circle(-0.12, -0.05, 0.035));
};

const heart: SubjectDraw = (p) => {
  p.fill(BODY, (c) => {
    c.moveTo(0, -0.22);
    c.bezierCurveTo(0, -0.47, -0.5, -0.47, -0.5, -0.12);
    c.bezierCurveTo(-0.5, 0.14, -0.2, 0.3, 0, 0.46);
    c.bezierCurveTo(0.2, 0.3, 0.5, 0.14, 0.5, -0.12);
    c.bezierCurveTo(0.5, -0.47, 0, -0.47, 0, -0.22);
    c.closePath();
  });
  p.fill(LIGHT, ellipse(-0.27, -0.17, 0.09, 0.05, -0.7));
  p.line(ACCENT, 0.025, (c) => {
    c.moveTo(0.14, 0.12);
    c.quadraticCurveTo(0.3, 0.02, 0.33, -0.12);
  });
};

const house: SubjectDraw = (p) => {
  p.fill(SECOND, rect(0.17, -0.38, 0.1, 0.2));
  p.fill(BODY, rect(-0.33, -0.05, 0.66, 0.5));
  p.fill(SECOND, poly(-0.46, -0.02, 0, -0.44, 0.46, -0.02));
  p.fill(INK, rect(-0.07, 0.2, 0.14, 0.25));
  p.fill(ACCENT, rect(-0.27, 0.05, 0.14, 0.13));
  p.fill(ACCENT, rect(0.13, 0.05, 0.14, 0.13));
  p.line(INK, 0.018, (c) => {
    seg(-0.2, 0.05, -0.2, 0.18)(c);
    seg(-0.27, 0.115, -0.13, 0.115)(c);
    seg(0.2, 0.05, 0.2, 0.18)(c);
    seg(0.13, 0.115, 0.27, 0.115)(c);
  });
};

const tree: SubjectDraw = (p, r) => {
  p.fill(INK, poly(-0.07, 0.48, -0.05, 0.02, 0.05, 0.02, 0.07, 0.48));
  p.fill(BODY, (c) => {
    circle(0, -0.2, 0.28)(c);
    circle(-0.21, -0.02, 0.19)(c);
    circle(0.21, -0.02, 0.19)(c);
    circle(0, -0.36, 0.15)(c);
  });
  for (let i = 0; i < 5; i++) {
    const a = r() * TAU;
    const d = 0.08 + 0.17 * r();
    p.fill(ACCENT, circle(Math.cos(a) * d, -0.14 + Math.sin(a) * d * 0.8, 0.035));
  }
};

const fish: SubjectDraw = (p) => {
  p.fill(SECOND, poly(0.26, 0, 0.5, -0.22, 0.44, 0, 0.5, 0.22));
  p.fill(SECOND, poly(-0.12, -0.15, 0.06, -0.32, 0.16, -0.14));
  p.fill(BODY, ellipse(-0.04, 0, 0.34, 0.2));
  p.fill(ACCENT, poly(-0.02, 0.08, 0.1, 0.2, 0.12, 0.06));
  p.fill(LIGHT, circle(-0.23, -0.04, 0.05));
  p.fill(INK, circle(-0.235, -0.04, 0.025));
  p.line(INK, 0.02, (c) => {
    c.moveTo(-0.14, -0.14);
    c.quadraticCurveTo(-0.08, 0, -0.14, 0.14);
  });
  p.line(ACCENT, 0.018, (c) => {
    for (const x of [0.0, 0.09, 0.18]) {
      c.moveTo(x, -0.09);
      c.quadraticCurveTo(x + 0.05, -0.03, x, 0.03);
    }
  });
};

const flower: SubjectDraw = (p, r) => {
  p.line(SECOND, 0.045, seg(0, 0.1, 0.02, 0.5));
  p.fill(SECOND, ellipse(0.1, 0.36, 0.1, 0.04, -0.5));
  const n = 6 + Math.floor(r() * 3);
  const off = r() * TAU;
  for (let i = 0; i < n; i++) {
    const a = off + (i * TAU) / n;
    p.fill(BODY, ellipse(Math.cos(a) * 0.19, -0.12 + Math.sin(a) * 0.19, 0.15, 0.075, a));
  }
  p.fill(ACCENT, circle(0, -0.12, 0.1));
  p.fill(INK, circle(0.03, -0.15, 0.02));
};

const moon: SubjectDraw = (p) => {
  const R = 0.46;
  const d = 0.22;
  const rr = 0.38;
  const ix = (d * d + R * R - rr * rr) / (2 * d);
  const iy = Math.sqrt(R * R - ix * ix);
  const ta = Math.atan2(iy, ix);
  const pb = Math.atan2(-iy, ix - d);
  const pa = Math.atan2(iy, ix - d);
  p.fill(BODY, (c) => {
    c.moveTo(ix - 0.06, iy);
    c.arc(-0.06, 0, R, ta, TAU - ta, false);
    c.arc(d - 0.06, 0, rr, pb, pa, true);
    c.closePath();
  });
  p.fill(SECOND, circle(-0.38, 0.02, 0.045));
  p.fill(SECOND, circle(-0.3, 0.22, 0.035));
  p.fill(SECOND, circle(-0.3, -0.2, 0.03));
  p.fill(ACCENT, starPath(0.3, -0.28, 0.08, 0.03, 4));
  p.fill(ACCENT, starPath(0.36, 0.18, 0.05, 0.02, 4));
};

const sun: SubjectDraw = (p, r) => {
  const n = 10 + Math.floor(r() * 5);
  const off = r() * TAU;
  for (let i = 0; i < n; i++) {
    const a = off + (i * TAU) / n;
    const w = Math.PI / n / 1.6;
    p.fill(ACCENT, poly(Math.cos(a - w) * 0.3, Math.sin(a - w) * 0.3, Math.cos(a) * 0.5, Math.sin(a) * 0.5, Math.cos(a + w) * 0.3, Math.sin(a + w) * 0.3));
  }
  p.fill(BODY, circle(0, 0, 0.31));
  p.fill(LIGHT, circle(-0.1, -0.1, 0.09));
  p.fill(INK, circle(-0.1, -0.04, 0.03));
  p.fill(INK, circle(0.1, -0.04, 0.03));
  p.line(INK, 0.025, (c) => {
    c.moveTo(-0.12, 0.09);
    c.quadraticCurveTo(0, 0.2, 0.12, 0.09);
  });
};

const mountain: SubjectDraw = (p) => {
  p.fill(SECOND, poly(-0.1, 0.42, 0.24, -0.18, 0.52, 0.42));
  p.fill(BODY, poly(-0.52, 0.42, -0.1, -0.46, 0.3, 0.42));
  p.fill(LIGHT, poly(-0.1, -0.46, -0.24, -0.16, -0.17, -0.2, -0.1, -0.13, -0.04, -0.21, 0.03, -0.18));
  p.fill(LIGHT, poly(0.24, -0.18, 0.16, 0.0, 0.22, -0.03, 0.28, 0.01, 0.33, -0.02));
  p.line(INK, 0.02, seg(-0.52, 0.43, 0.52, 0.43));
};

const car: SubjectDraw = (p) => {
  p.fill(BODY, poly(-0.3, -0.02, -0.18, -0.27, 0.18, -0.27, 0.32, -0.02));
  p.fill(BODY, (c) => {
    c.moveTo(-0.44, -0.02);
    c.lineTo(0.44, -0.02);
    c.quadraticCurveTo(0.5, -0.02, 0.5, 0.05);
    c.lineTo(0.5, 0.17);
    c.lineTo(-0.5, 0.17);
    c.lineTo(-0.5, 0.05);
    c.quadraticCurveTo(-0.5, -0.02, -0.44, -0.02);
    c.closePath();
  });
  p.fill(LIGHT, poly(-0.24, -0.04, -0.15, -0.22, -0.02, -0.22, -0.02, -0.04));
  p.fill(LIGHT, poly(0.03, -0.04, 0.03, -0.22, 0.15, -0.22, 0.25, -0.04));
  p.fill(ACCENT, circle(0.44, 0.05, 0.035));
  p.fill(INK, circle(-0.27, 0.2, 0.12));
  p.fill(INK, circle(0.27, 0.2, 0.12));
  p.fill(SECOND, circle(-0.27, 0.2, 0.05));
  p.fill(SECOND, circle(0.27, 0.2, 0.05));
  p.line(SECOND, 0.02, seg(-0.45, 0.07, 0.45, 0.07));
};

const boat: SubjectDraw = (p) => {
  p.fill(SECOND, poly(0.03, -0.44, 0.03, 0.09, 0.4, 0.09));
  p.fill(ACCENT, poly(-0.03, -0.32, -0.03, 0.09, -0.3, 0.09));
  p.line(INK, 0.025, seg(0, 0.16, 0, -0.48));
  p.fill(ACCENT, poly(0, -0.48, 0.12, -0.44, 0, -0.4));
  p.fill(BODY, poly(-0.46, 0.13, 0.46, 0.13, 0.33, 0.34, -0.33, 0.34));
  p.line(LIGHT, 0.02, seg(-0.4, 0.19, 0.4, 0.19));
  p.line(SECOND, 0.025, (c) => {
    c.moveTo(-0.5, 0.42);
    for (let i = 0; i < 4; i++) c.quadraticCurveTo(-0.375 + i * 0.25, 0.36, -0.25 + i * 0.25, 0.42);
  });
};

const cat: SubjectDraw = (p) => {
  p.line(BODY, 0.07, (c) => {
    c.moveTo(0.2, 0.38);
    c.bezierCurveTo(0.45, 0.38, 0.5, 0.1, 0.38, 0.0);
  });
  p.fill(BODY, ellipse(0, 0.2, 0.26, 0.27));
  p.fill(BODY, poly(-0.19, -0.24, -0.16, -0.47, -0.02, -0.36));
  p.fill(BODY, poly(0.19, -0.24, 0.16, -0.47, 0.02, -0.36));
  p.fill(BODY, circle(0, -0.19, 0.2));
  p.fill(ACCENT, poly(-0.15, -0.3, -0.14, -0.41, -0.06, -0.35));
  p.fill(ACCENT, poly(0.15, -0.3, 0.14, -0.41, 0.06, -0.35));
  p.fill(LIGHT, ellipse(0, 0.24, 0.13, 0.17));
  p.fill(ACCENT, ellipse(-0.075, -0.21, 0.04, 0.05));
  p.fill(ACCENT, ellipse(0.075, -0.21, 0.04, 0.05));
  p.fill(INK, ellipse(-0.075, -0.21, 0.013, 0.04));
  p.fill(INK, ellipse(0.075, -0.21, 0.013, 0.04));
  p.fill(INK, poly(-0.03, -0.12, 0.03, -0.12, 0, -0.09));
  p.line(INK, 0.012, (c) => {
    seg(-0.04, -0.1, -0.26, -0.14)(c);
    seg(-0.04, -0.09, -0.26, -0.06)(c);
    seg(0.04, -0.1, 0.26, -0.14)(c);
    seg(0.04, -0.09, 0.26, -0.06)(c);
  });
};

const bird: SubjectDraw = (p) => {
  p.line(INK, 0.02, (c) => {
    seg(-0.02, 0.22, -0.05, 0.42)(c);
    seg(0.1, 0.22, 0.1, 0.42)(c);
  });
  p.fill(SECOND, poly(0.24, 0.0, 0.52, -0.12, 0.5, 0.14));
  p.fill(BODY, ellipse(0.04, 0.05, 0.3, 0.2, 0.1));
  p.fill(BODY, circle(-0.22, -0.13, 0.15));
  p.fill(ACCENT, poly(-0.35, -0.16, -0.5, -0.09, -0.34, -0.05));
  p.fill(SECOND, ellipse(0.1, 0.0, 0.19, 0.1, -0.35));
  p.fill(LIGHT, ellipse(-0.05, 0.13, 0.14, 0.07, 0.1));
  p.fill(INK, circle(-0.25, -0.16, 0.03));
};

const butterfly: SubjectDraw = (p) => {
  p.fill(BODY, ellipse(-0.22, -0.16, 0.24, 0.17, -0.6));
  p.fill(BODY, ellipse(0.22, -0.16, 0.24, 0.17, 0.6));
  p.fill(SECOND, ellipse(-0.17, 0.17, 0.16, 0.12, 0.6));
  p.fill(SECOND, ellipse(0.17, 0.17, 0.16, 0.12, -0.6));
  p.fill(ACCENT, circle(-0.26, -0.2, 0.06));
  p.fill(ACCENT, circle(0.26, -0.2, 0.06));
  p.fill(LIGHT, circle(-0.18, 0.2, 0.04));
  p.fill(LIGHT, circle(0.18, 0.2, 0.04));
  p.fill(INK, ellipse(0, 0.02, 0.04, 0.3));
  p.line(INK, 0.018, (c) => {
    c.moveTo(-0.01, -0.26);
    c.quadraticCurveTo(-0.05, -0.42, -0.15, -0.46);
    c.moveTo(0.01, -0.26);
    c.quadraticCurveTo(0.05, -0.42, 0.15, -0.46);
  });
};

const key: SubjectDraw = (p) => {
  p.fill(BODY, (c) => {
    circle(-0.28, 0, 0.21)(c);
    circle(-0.28, 0, 0.1)(c);
  }, true);
  p.fill(BODY, rect(-0.1, -0.045, 0.6, 0.09));
  p.fill(BODY, rect(0.3, 0.04, 0.07, 0.13));
  p.fill(BODY, rect(0.41, 0.04, 0.07, 0.18));
  p.fill(ACCENT, circle(-0.28, -0.155, 0.03));
  p.fill(ACCENT, circle(-0.28, 0.155, 0.03));
  p.line(INK, 0.015, seg(-0.05, 0, 0.46, 0));
};

const cup: SubjectDraw = (p) => {
  p.fill(SECOND, ellipse(0, 0.36, 0.46, 0.09));
  p.line(BODY, 0.055, (c) => {
    c.moveTo(0.27, -0.07);
    c.arc(0.3, 0.04, 0.11, -1.2, 1.4);
  });
  p.fill(BODY, (c) => {
    c.moveTo(-0.31, -0.15);
    c.lineTo(0.31, -0.15);
    c.lineTo(0.26, 0.2);
    c.quadraticCurveTo(0.23, 0.33, 0.1, 0.33);
    c.lineTo(-0.1, 0.33);
    c.quadraticCurveTo(-0.23, 0.33, -0.26, 0.2);
    c.closePath();
  });
  p.fill(LIGHT, ellipse(0, -0.15, 0.31, 0.05));
  p.line(ACCENT, 0.035, seg(-0.29, 0.0, 0.29, 0.0));
  p.line(INK, 0.02, (c) => {
    for (const x of [-0.12, 0.0, 0.12]) {
      c.moveTo(x, -0.23);
      c.bezierCurveTo(x - 0.05, -0.3, x + 0.05, -0.36, x, -0.45);
    }
  });
};

const umbrella: SubjectDraw = (p) => {
  p.line(INK, 0.035, (c) => {
    c.moveTo(0, 0);
    c.lineTo(0, 0.38);
    c.arc(-0.07, 0.38, 0.07, 0, Math.PI);
  });
  p.fill(BODY, (c) => {
    c.moveTo(-0.49, 0.02);
    c.arc(0, 0.02, 0.49, Math.PI, TAU);
    for (let i = 0; i < 4; i++) {
      const x0 = 0.49 - i * 0.245;
      c.quadraticCurveTo(x0 - 0.1225, -0.07, x0 - 0.245, 0.02);
    }
    c.closePath();
  });
  p.line(SECOND, 0.025, (c) => {
    for (const x of [-0.245, 0, 0.245]) {
      c.moveTo(0, -0.47);
      c.quadraticCurveTo(x * 0.7, -0.3, x, 0.02);
    }
  });
  p.fill(ACCENT, circle(0, -0.49, 0.03));
};

const cloud: SubjectDraw = (p, r) => {
  p.fill(BODY, (c) => {
    circle(-0.24, 0.06, 0.18)(c);
    circle(-0.02, -0.08, 0.25)(c);
    circle(0.23, 0.02, 0.2)(c);
    circle(-0.06, 0.11, 0.2)(c);
    circle(0.16, 0.13, 0.16)(c);
  });
  p.fill(LIGHT, ellipse(-0.08, -0.17, 0.1, 0.05, -0.3));
  p.fill(LIGHT, ellipse(0.2, -0.06, 0.06, 0.035, -0.2));
  if (r() < 0.5) {
    for (const x of [-0.2, 0.0, 0.2]) {
      p.fill(ACCENT, (c) => {
        c.moveTo(x, 0.33);
        c.quadraticCurveTo(x + 0.04, 0.42, x, 0.44);
        c.quadraticCurveTo(x - 0.04, 0.42, x, 0.33);
      });
    }
  } else {
    p.line(SECOND, 0.02, (c) => {
      c.moveTo(-0.3, 0.25);
      c.lineTo(0.3, 0.25);
    });
  }
};

const leaf: SubjectDraw = (p) => {
  p.line(SECOND, 0.04, seg(0, 0.36, 0.06, 0.5));
  p.fill(BODY, (c) => {
    c.moveTo(0, -0.48);
    c.bezierCurveTo(0.36, -0.3, 0.36, 0.2, 0, 0.38);
    c.bezierCurveTo(-0.36, 0.2, -0.36, -0.3, 0, -0.48);
    c.closePath();
  });
  p.line(SECOND, 0.025, (c) => {
    c.moveTo(0, -0.42);
    c.lineTo(0, 0.36);
    for (const y of [-0.24, -0.1, 0.04, 0.18]) {
      c.moveTo(0, y + 0.08);
      c.lineTo(-0.17, y - 0.02);
      c.moveTo(0, y + 0.08);
      c.lineTo(0.17, y - 0.02);
    }
  });
};

const rocket: SubjectDraw = (p, r) => {
  const flame = 0.46 + 0.06 * r();
  p.fill(ACCENT, poly(-0.09, 0.3, -0.04, flame - 0.06, 0, flame, 0.04, flame - 0.06, 0.09, 0.3));
  p.fill(SECOND, poly(-0.12, 0.06, -0.27, 0.34, -0.1, 0.3));
  p.fill(SECOND, poly(0.12, 0.06, 0.27, 0.34, 0.1, 0.3));
  p.fill(BODY, (c) => {
    c.moveTo(0, -0.48);
    c.bezierCurveTo(0.17, -0.35, 0.15, -0.1, 0.13, 0.32);
    c.lineTo(-0.13, 0.32);
    c.bezierCurveTo(-0.15, -0.1, -0.17, -0.35, 0, -0.48);
    c.closePath();
  });
  p.fill(ACCENT, (c) => {
    c.moveTo(0, -0.48);
    c.bezierCurveTo(0.08, -0.42, 0.11, -0.36, 0.125, -0.3);
    c.lineTo(-0.125, -0.3);
    c.bezierCurveTo(-0.11, -0.36, -0.08, -0.42, 0, -0.48);
    c.closePath();
  });
  p.fill(INK, circle(0, -0.1, 0.075));
  p.fill(LIGHT, circle(0, -0.1, 0.05));
  p.fill(SECOND, rect(-0.02, 0.1, 0.04, 0.2));
};

export const SUBJECT_DRAW: Record<string, SubjectDraw> = {
  star,
  heart,
  house,
  tree,
  fish,
  flower,
  moon,
  sun,
  mountain,
  car,
  boat,
  cat,
  bird,
  butterfly,
  key,
  cup,
  umbrella,
  cloud,
  leaf,
  rocket,
};

/** Where a composition puts its subjects: centre (px), size (px), rotation, horizontal flip. */
export interface Placement {
  x: number;
  y: number;
  size: number;
  rot: number;
  flip: boolean;
}

export interface CompositionParams {
  id: string;
  minCount: number;
  maxCount: number;
  minScale: number;
  maxScale: number;
  rotation: number;
}

/** Sample placements for one image of a composition. */
export function placeSubjects(comp: CompositionParams, rand: () => number, size: number): Placement[] {
  const count = comp.minCount + Math.floor(rand() * (comp.maxCount - comp.minCount + 1));
  const scale = () => (comp.minScale + (comp.maxScale - comp.minScale) * rand()) * size;
  const rot = () => (rand() * 2 - 1) * comp.rotation;
  const flip = () => rand() < 0.5;
  const jit = (a: number) => (rand() * 2 - 1) * a * size;
  const out: Placement[] = [];
  switch (comp.id) {
    case 'single':
    case 'closeup': {
      const j = comp.id === 'single' ? 0.1 : 0.14;
      out.push({ x: size / 2 + jit(j), y: size / 2 + jit(j), size: scale(), rot: rot(), flip: flip() });
      break;
    }
    case 'pair': {
      const y = size / 2 + jit(0.1);
      const dy = jit(0.08);
      out.push({ x: size * 0.28 + jit(0.04), y: y - dy, size: scale(), rot: rot(), flip: flip() });
      out.push({ x: size * 0.72 + jit(0.04), y: y + dy, size: scale(), rot: rot(), flip: flip() });
      break;
    }
    case 'row': {
      const y = size / 2 + jit(0.15);
      const s = scale();
      const f = flip();
      for (let i = 0; i < count; i++) {
        out.push({ x: ((i + 0.5) / count) * size + jit(0.015), y: y + jit(0.02), size: s, rot: rot(), flip: f });
      }
      break;
    }
    default: {
      // trio / scattered: rejection-sampled positions with a minimum distance.
      for (let i = 0; i < count; i++) {
        const s = scale();
        let best = { x: 0, y: 0, d: -1 };
        for (let t = 0; t < 12; t++) {
          const x = s * 0.5 + rand() * (size - s);
          const y = s * 0.5 + rand() * (size - s);
          let d = Infinity;
          for (const o of out) d = Math.min(d, Math.hypot(o.x - x, o.y - y) - (o.size + s) * 0.4);
          if (d > best.d) best = { x, y, d };
          if (d > 0) break;
        }
        out.push({ x: best.x, y: best.y, size: s, rot: rot(), flip: flip() });
      }
    }
  }
  out.sort((a, b) => a.y - b.y);
  return out;
}
