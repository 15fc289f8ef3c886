import { csvNumber, csvText } from './csv-cells';

describe('CSV cells', () => {
  it.each([
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
    ['Dana Reyes', 'Dana Reyes'],
    ['T-1042', 'T-1042'],
    ['a,b', '"a,b"'],
    [null, ''],
  ])('neutralises text %j as %j', (input, expected) => {
    expect(csvText(input)).toBe(expected);
  });

  it('leaves numbers alone, negative ones included', () => {
    expect(csvNumber('-500')).toBe('-500');
    expect(csvNumber(1234)).toBe('1234');
    expect(csvNumber(undefined)).toBe('');
  });
});
