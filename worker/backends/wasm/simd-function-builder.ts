/** Emits the body of one function of the SIMD module (simd-module.ts). */
import { type ValType, sleb, uleb, vec } from './simd-encoding.js';

/** Emits one function body with structured loops; locals are numbered after the parameters. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly params: number) {}

  local(type: ValType): number {
    this.locals.push(type);
    return this.params + this.locals.length - 1;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  i32(v: number): this {
    return this.op(0x41, ...sleb(v));
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  /** Sets local `dst` = a (op) b for locals / constants. */
  assign(dst: number, emit: () => void): this {
    emit();
    return this.set(dst);
  }
  /** max(local a, constant/zero) etc. via select: pushes (cond ? x : y). */
  select(x: () => void, y: () => void, cond: () => void): this {
    x();
    y();
    cond();
    return this.op(0x1b);
  }

  /** for (v = from; v < to; v += step) body — `from`, `to` emit one i32 each; step a constant. */
  forRange(v: number, from: () => void, to: () => void, step: number, body: () => void): this {
    from();
    this.set(v);
    this.op(0x02, 0x40, 0x03, 0x40); // block, loop
    this.get(v);
    to();
    this.op(0x4e, 0x0d, 0x01); // i32.ge_s; br_if 1 (out of the block)
    body();
    this.get(v).i32(step).add().set(v);
    this.op(0x0c, 0x00, 0x0b, 0x0b); // br 0 (loop); end; end
    return this;
  }

  /** for (v = from; v < to; v += local step) body. */
  forRangeBy(v: number, from: () => void, to: () => void, stepLocal: number, body: () => void): this {
    from();
    this.set(v);
    this.op(0x02, 0x40, 0x03, 0x40);
    this.get(v);
    to();
    this.op(0x4e, 0x0d, 0x01);
    body();
    this.get(v).get(stepLocal).add().set(v);
    this.op(0x0c, 0x00, 0x0b, 0x0b);
    return this;
  }

  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.locals) groups.push([1, t]);
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}
